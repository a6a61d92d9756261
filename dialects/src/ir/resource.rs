//! Weight blobs, stored as MLIR does in `{-# dialect_resources ... #-}`:
//! a hex string whose first 4 bytes are the alignment (little endian), then
//! the raw little-endian data.

/// A named blob. The bytes are shared (`Arc`): clones of a module share
/// its weights, and a cache may key on the blob's identity while it holds
/// it (see `ckks::plaintext`).
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub name: String,
    pub alignment: u32,
    pub data: std::sync::Arc<[u8]>,
}

impl Resource {
    pub fn as_f32(&self) -> Result<Vec<f32>, String> {
        if !self.data.len().is_multiple_of(4) {
            return Err(format!(
                "resource '{}' has {} bytes, not a multiple of 4 (f32)",
                self.name,
                self.data.len()
            ));
        }
        Ok(self
            .data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// `"0x04000000..."` as written in the resource section.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(2 + 8 + 2 * self.data.len());
        s.push_str("0x");
        for b in self.alignment.to_le_bytes().iter().chain(self.data.iter()) {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }

    /// Inverse of `to_hex`.
    pub fn from_hex(name: &str, hex: &str) -> Result<Resource, String> {
        let body = hex
            .strip_prefix("0x")
            .ok_or_else(|| format!("resource '{name}': blob must start with 0x"))?
            .as_bytes();
        if !body.len().is_multiple_of(2) || body.len() < 8 {
            return Err(format!("resource '{name}': malformed hex blob"));
        }
        // Byte-wise (a non-ASCII character must not split a `&str` slice).
        let mut bytes = Vec::with_capacity(body.len() / 2);
        for pair in body.chunks_exact(2) {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(h), Some(l)) => bytes.push((h << 4) | l),
                _ => return Err(format!("resource '{name}': bad hex digit")),
            }
        }
        Ok(Resource {
            name: name.to_string(),
            alignment: u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            data: bytes.split_off(4).into(),
        })
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

pub fn f32_to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Resource keys must be bare identifiers: `fc1.weight` -> `fc1_weight`.
pub fn sanitize_name(hint: &str) -> String {
    let mut s: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s = s.trim_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "r_");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let r = Resource {
            name: "w".into(),
            alignment: 4,
            data: f32_to_bytes(&[1.0, -2.5]).into(),
        };
        let h = r.to_hex();
        assert!(h.starts_with("0x04000000"));
        assert_eq!(Resource::from_hex("w", &h).unwrap(), r);
        assert_eq!(r.as_f32().unwrap(), vec![1.0, -2.5]);
    }
}
