//! Issue 6: cook and build must match: record, warn, verify, explain.
