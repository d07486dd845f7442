//! Issue 4 and 8: per-image skeletons, diff, skeleton digest; seeded cook.
