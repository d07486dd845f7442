//! Stub target sources. Stubs live in one directory at the top of the skeleton tree
//! (`.cargo-prebuild-stub/`), a path real sources never use: every artifact built from a stub
//! records that path in its dep-info, so once cook removes the stub, cargo can never judge a
//! stub artifact fresh for real sources, whatever their mtimes. Stub names carry a marker that
//! `verify` and people can find, and a stub binary refuses to pass as the real program.

/// Directory, relative to a package, holding its stub sources.
pub const STUB_DIR: &str = ".cargo-prebuild-stub";

use crate::workspace::{Kind, Target};

/// A byte string compiled into every stub artifact so one can be recognised in an image.
pub const MARKER: &str = "cargo-prebuild-stub-5f1d0c7a";

pub const LIB: &str = concat!(
    "//! cargo-prebuild stub: compiled only to build dependencies, never to be shipped.\n",
    "#![cfg_attr(target_os = \"none\", no_std)]\n",
    "#[used]\n",
    "static CARGO_PREBUILD_STUB: [u8; 28] = *b\"cargo-prebuild-stub-5f1d0c7a\";\n",
);

pub const BIN: &str = concat!(
    "//! cargo-prebuild stub: compiled only to build dependencies, never to be shipped.\n",
    "#![cfg_attr(target_os = \"none\", no_std, no_main)]\n",
    "#[used]\n",
    "static CARGO_PREBUILD_STUB: [u8; 28] = *b\"cargo-prebuild-stub-5f1d0c7a\";\n",
    "#[cfg(target_os = \"none\")]\n",
    "#[panic_handler]\n",
    "fn panic(_: &core::panic::PanicInfo) -> ! {\n",
    "    loop {}\n",
    "}\n",
    "#[cfg(not(target_os = \"none\"))]\n",
    "fn main() {\n",
    "    eprintln!(\n",
    "        \"error: this binary is a cargo-prebuild stub, not a real program: it was built \\\n",
    "         from a skeleton to compile dependencies and must not be shipped (rebuild from the \\\n",
    "         real sources)\"\n",
    "    );\n",
    "    std::process::exit(101);\n",
    "}\n",
);

pub const BUILD: &str = concat!(
    "//! cargo-prebuild stub build script: lets build-dependencies and `links` resolve.\n",
    "fn main() {}\n",
);

/// Source file of the stub build script, relative to the tree root.
pub const BUILD_PATH: &str = ".cargo-prebuild-stub/build.rs";

/// A stub target: it stands for every real target of one kind whose unit-deciding attributes
/// are these, so a package's second test (or bin, ...) of a kind changes nothing, while a
/// first one, or one with other `required-features`, does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stub {
    pub kind: Kind,
    /// Sorted; `["proc-macro"]` for a proc-macro lib.
    pub crate_types: Vec<String>,
    pub required_features: Vec<String>,
    pub test: bool,
    pub doctest: bool,
    pub doc: bool,
    pub bench: bool,
    /// `doc-scrape-examples = true` on an example (cargo metadata does not report it).
    pub doc_scrape: bool,
}

impl Stub {
    /// What stands for `target`, with the flags only its manifest gives.
    pub fn of(target: &Target, flags: ManifestFlags) -> Stub {
        Stub {
            kind: target.kind,
            crate_types: target.crate_types.clone(),
            required_features: target.required_features.clone(),
            test: target.test,
            doctest: target.doctest,
            doc: target.doc,
            bench: flags.bench,
            doc_scrape: flags.doc_scrape && target.kind == Kind::Example,
        }
    }

    pub fn source(&self) -> &'static str {
        match self.kind {
            Kind::Lib => LIB,
            Kind::Bin | Kind::Example | Kind::Test | Kind::Bench => BIN,
        }
    }

    /// Path relative to the tree root of the `index`th stub of this kind in a package: each
    /// target of a package gets its own file (cargo warns about one file in two targets),
    /// and every package shares the same few files.
    pub fn path(&self, index: usize) -> String {
        let stem = match self.kind {
            Kind::Lib => "lib",
            Kind::Bin => "main",
            Kind::Example => "example",
            Kind::Test => "test",
            Kind::Bench => "bench",
        };
        match index {
            0 => format!("{STUB_DIR}/{stem}.rs"),
            n => format!("{STUB_DIR}/{stem}-{}.rs", n + 1),
        }
    }

    /// Target name: unique across the workspace and unmistakable for a real target.
    pub fn name(&self, package: &str, index: usize) -> String {
        let suffix = match self.kind {
            Kind::Lib | Kind::Bin => "",
            Kind::Example => "-example",
            Kind::Test => "-test",
            Kind::Bench => "-bench",
        };
        match index {
            0 => format!("{package}-prebuild-stub{suffix}"),
            n => format!("{package}-prebuild-stub{suffix}-{}", n + 1),
        }
    }
}

/// A target's flags that only its manifest table gives (cargo metadata omits them).
#[derive(Debug, Clone, Copy)]
pub struct ManifestFlags {
    pub bench: bool,
    pub doc_scrape: bool,
}

/// The stubs standing for a package's targets: one per distinct kind and attributes, in a
/// fixed order. `flags` gives each target's manifest-only flags.
pub fn for_targets(targets: &[Target], flags: impl Fn(&Target) -> ManifestFlags) -> Vec<Stub> {
    crate::workspace::sorted(targets.iter().map(|t| Stub::of(t, flags(t))))
}

/// Relative path from a package `depth` directories below the tree root to `path`.
pub fn from_depth(path: &str, depth: usize) -> String {
    format!("{}{path}", "../".repeat(depth))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_carry_the_marker() {
        assert!(LIB.contains(MARKER));
        assert!(BIN.contains(MARKER));
    }
}
