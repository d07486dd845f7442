//! Issue 3: every manifest, config and toolchain construct real workspaces use, end to end.
