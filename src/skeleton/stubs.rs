//! Stub target sources. Stubs live in one directory at the top of the skeleton tree
//! (`.cargo-prebuild-stub/`), a path real sources never use: every artifact built from a stub
//! records that path in its dep-info, so once cook removes the stub, cargo can never judge a
//! stub artifact fresh for real sources, whatever their mtimes. Stub names carry a marker that
//! `verify` and people can find, and a stub binary refuses to pass as the real program.

/// Directory, relative to a package, holding its stub sources.
pub const STUB_DIR: &str = ".cargo-prebuild-stub";

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

/// A stub target of a package: where its source goes and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubTarget {
    Lib,
    Bin,
    Example,
    Test,
    Bench,
    Build,
}

impl StubTarget {
    pub fn file_name(self) -> &'static str {
        match self {
            StubTarget::Lib => "lib.rs",
            StubTarget::Bin => "main.rs",
            StubTarget::Example => "example.rs",
            StubTarget::Test => "test.rs",
            StubTarget::Bench => "bench.rs",
            StubTarget::Build => "build.rs",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            StubTarget::Lib => LIB,
            StubTarget::Build => BUILD,
            StubTarget::Bin | StubTarget::Example | StubTarget::Test | StubTarget::Bench => BIN,
        }
    }

    /// Path relative to the tree root.
    pub fn path(self) -> String {
        format!("{STUB_DIR}/{}", self.file_name())
    }

    /// Path relative to a package `depth` directories below the tree root: every package
    /// shares one stub directory at the top of the tree, so a skeleton has a few stub files
    /// whatever its size.
    pub fn path_from(self, depth: usize) -> String {
        format!("{}{}", "../".repeat(depth), self.path())
    }

    /// Target name: unique across the workspace and unmistakable for a real target.
    pub fn name(self, package: &str) -> String {
        let suffix = match self {
            StubTarget::Lib | StubTarget::Build => "",
            StubTarget::Bin => "",
            StubTarget::Example => "-example",
            StubTarget::Test => "-test",
            StubTarget::Bench => "-bench",
        };
        format!("{package}-prebuild-stub{suffix}")
    }
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
