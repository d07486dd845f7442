use aho_corasick::AhoCorasick;
use smallvec::SmallVec;

cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        fn os() -> &'static str { "linux" }
    } else {
        fn os() -> &'static str { "other" }
    }
}

/// A greeting that proves the real crate (not a stub) was compiled. aho-corasick (and memchr
/// under it) give the registry scenarios a dependency chain whose bottom can be bumped.
pub fn greeting() -> String {
    let words: SmallVec<[&str; 4]> = ["hello", "from", "greet"].into_iter().collect();
    let text = words.join(" ");
    let found = AhoCorasick::new(["greet"]).map(|ac| ac.is_match(&text)).unwrap_or(false);
    let name = if found { "greet" } else { "?" };
    format!("{} {} on {}", text.replace("greet", name), env!("CARGO_PKG_VERSION"), os())
}
