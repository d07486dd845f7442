/// Formats `n` with itoa and groups the digits by three.
pub fn pretty(n: u64) -> String {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    // regex-syntax: a larger dependency that a memchr bump leaves alone (the registry
    // scenarios measure what an ephemeral runner recompiles after that bump)
    if regex_syntax::Parser::new().parse(r"\d+(_\d{3})*").is_err() {
        out.push('?');
    }
    out
}
