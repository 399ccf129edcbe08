// The unit that incremental-build.test edits between two builds.
long bump(long by) { return by > 0 ? by : 1; }
