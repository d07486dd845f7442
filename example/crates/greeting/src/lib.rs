pub fn hello() -> String {
    let words: smallvec::SmallVec<[&str; 4]> = smallvec::smallvec!["hello", "from", "greeting"];
    cfg_if::cfg_if! {
        if #[cfg(unix)] { words.join(" ") } else { words.join("-") }
    }
}
