//! The skeleton's tree as one deterministic ustar archive: one file to write instead of
//! hundreds of files and directories (what made `prepare` cost more system time than the
//! `cargo metadata` it runs), still read by any `tar`. Entries are regular files only, in the
//! skeleton's sorted order, with mode 0644, uid and gid 0, mtime 0 and no owner names, so
//! one skeleton is always the same bytes. A path longer than ustar's fields takes a pax
//! `path` record, as `tar --format=pax` writes it.

use anyhow::{bail, Context, Result};

const BLOCK: usize = 512;
/// Largest size ustar's 11 octal digits hold.
const MAX_SIZE: u64 = 0o77_777_777_777;

/// The archive of `files` (relative `/`-separated path, contents), in the order given.
pub fn write<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (path, contents) in files {
        let len = u64::try_from(contents.len()).unwrap_or(u64::MAX);
        if len > MAX_SIZE {
            bail!("skeleton file `{path}` is too large for the skeleton archive ({len} bytes)");
        }
        match split(path) {
            Some((prefix, name)) => out.extend_from_slice(&header(name, prefix, len, b'0')),
            None => {
                let record = pax_record("path", path);
                let pax_len = record.len() as u64;
                out.extend_from_slice(&header("././@PaxHeader", "", pax_len, b'x'));
                push_padded(&mut out, record.as_bytes());
                // The ustar fields hold what fits; readers take the pax path.
                let mut cut = path.len().saturating_sub(100);
                while !path.is_char_boundary(cut) {
                    cut += 1;
                }
                let short = &path[cut..];
                let short = short
                    .trim_start_matches(|c| c != '/')
                    .trim_start_matches('/');
                out.extend_from_slice(&header(short, "", len, b'0'));
            }
        }
        push_padded(&mut out, contents);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

/// The files in an archive `write` made (or any ustar archive of regular files), in order.
/// `name` is the archive's path for errors.
pub fn read(bytes: &[u8], name: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut pos = 0;
    let mut long_path: Option<String> = None;
    loop {
        let Some(block) = bytes.get(pos..pos + BLOCK) else {
            bail!("skeleton archive `{name}` is truncated");
        };
        if block.iter().all(|&b| b == 0) {
            return Ok(files);
        }
        let here = pos;
        let at = || format!("skeleton archive `{name}`, entry at byte {here}");
        check_header(block).with_context(at)?;
        let size = octal(&block[124..136]).with_context(at)?;
        let start = pos + BLOCK;
        let data = usize::try_from(size)
            .ok()
            .and_then(|size| bytes.get(start..start.checked_add(size)?))
            .with_context(|| format!("skeleton archive `{name}` is truncated"))?;
        pos = start + data.len().div_ceil(BLOCK) * BLOCK;
        match block[156] {
            b'0' | 0 => {
                let path = match long_path.take() {
                    Some(path) => path,
                    None => ustar_path(block).with_context(at)?,
                };
                files.push((path, data.to_vec()));
            }
            b'x' => long_path = pax_path(data).with_context(at)?,
            other => bail!(
                "{}: entry type `{}` is not a regular file",
                at(),
                char::from(other)
            ),
        }
    }
}

/// Splits `path` into ustar's prefix (up to 155 bytes) and name (up to 100) at a `/`.
fn split(path: &str) -> Option<(&str, &str)> {
    if path.len() <= 100 {
        return Some(("", path));
    }
    path.char_indices()
        .filter(|&(i, c)| c == '/' && i <= 155 && path.len() - i - 1 <= 100)
        .map(|(i, _)| (&path[..i], &path[i + 1..]))
        .find(|(_, name)| !name.is_empty())
}

fn header(name: &str, prefix: &str, size: u64, kind: u8) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum = checksum(&h);
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Sum of the header's bytes with the checksum field read as spaces.
fn checksum(h: &[u8]) -> u32 {
    h.iter()
        .enumerate()
        .map(|(i, &b)| u32::from(if (148..156).contains(&i) { b' ' } else { b }))
        .sum()
}

fn check_header(h: &[u8]) -> Result<()> {
    if &h[257..262] != b"ustar" {
        bail!("not a ustar header");
    }
    if u64::from(checksum(h)) != octal(&h[148..156])? {
        bail!("header checksum does not match");
    }
    Ok(())
}

fn octal(field: &[u8]) -> Result<u64> {
    let digits = String::from_utf8_lossy(field);
    let digits = digits.trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(digits, 8).with_context(|| format!("`{digits}` is not an octal number"))
}

fn ustar_path(h: &[u8]) -> Result<String> {
    let field = |range: std::ops::Range<usize>| {
        let f = &h[range];
        let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
        std::str::from_utf8(&f[..end]).context("entry path is not UTF-8")
    };
    let (name, prefix) = (field(0..100)?, field(345..500)?);
    Ok(if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    })
}

/// One pax record: its length (counting itself), the key, the value.
fn pax_record(key: &str, value: &str) -> String {
    let rest = key.len() + value.len() + 3;
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    format!("{len} {key}={value}\n")
}

/// The `path` record of a pax extended header, if it has one.
fn pax_path(mut data: &[u8]) -> Result<Option<String>> {
    let mut path = None;
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|&b| b == b' ')
            .context("malformed pax record")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .context("malformed pax record length")?;
        let record = data.get(space + 1..len).context("malformed pax record")?;
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            path = Some(String::from_utf8(value.to_vec()).context("pax path is not UTF-8")?);
        }
        data = &data[len..];
    }
    Ok(path)
}

fn push_padded(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_short_split_and_long_paths() -> Result<()> {
        let split_path = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let long_path = format!("{}/{}", "d".repeat(200), "f".repeat(120));
        let files: Vec<(String, Vec<u8>)> = vec![
            ("Cargo.toml".into(), b"[workspace]\n".to_vec()),
            ("empty.rs".into(), Vec::new()),
            (split_path, vec![7; 513]),
            (long_path, vec![1; 512]),
        ];
        let bytes = write(files.iter().map(|(p, c)| (p.as_str(), c.as_slice())))?;
        assert_eq!(bytes.len() % BLOCK, 0);
        assert_eq!(read(&bytes, "t")?, files);
        Ok(())
    }

    #[test]
    fn pax_record_length_counts_itself() {
        let r = pax_record("path", &"x".repeat(93));
        assert_eq!(r.len().to_string(), r.split(' ').next().unwrap_or(""));
        let r = pax_record("path", "a");
        assert_eq!(r, "9 path=a\n");
    }

    #[test]
    fn rejects_a_corrupt_header() -> Result<()> {
        let mut bytes = write([("a", b"x".as_slice())])?;
        bytes[0] = b'b';
        let err = read(&bytes, "t").err().map(|e| format!("{e:#}"));
        assert!(err.is_some_and(|e| e.contains("checksum")));
        assert!(read(&bytes[..100], "t").is_err());
        Ok(())
    }
}
