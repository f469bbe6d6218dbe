from secretkit.cli import main

main()
