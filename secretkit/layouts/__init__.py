"""Secret layouts secretkit meets in existing repositories (clan-core, …), read only."""
