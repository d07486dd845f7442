/// Formats `n` with itoa and groups the digits by three, then appends its hex form.
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
    format!("{out} (hex {})", hex::encode(n.to_be_bytes()))
}
