from secretkit.entry import main

main()
