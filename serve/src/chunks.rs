//! How large data travels: as chunks well under gRPC's message limit.

use orion_ckks::serialize::KeyId;

/// Bytes per message (tonic's default limit on a decoded message is 4 MiB).
pub const CHUNK_BYTES: usize = 1 << 20;

/// `data` in chunks of `size` bytes (one empty chunk for empty data, so
/// that the header always travels).
pub fn chunked(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let empty: &[u8] = &[];
    let first_if_empty = data.is_empty().then_some(empty);
    data.chunks(size).chain(first_if_empty)
}

/// A key id as written by `KeyId`'s `Display` (16 hex digits).
pub fn parse_key_id(s: &str) -> Result<KeyId, String> {
    if s.len() != 16 {
        return Err(format!("key id '{s}' is not 16 hex digits"));
    }
    u64::from_str_radix(s, 16)
        .map(KeyId)
        .map_err(|_| format!("key id '{s}' is not 16 hex digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_round_trip_and_bad_ones_are_refused() {
        let id = KeyId(0x0123_4567_89ab_cdef);
        assert_eq!(parse_key_id(&id.to_string()), Ok(id));
        assert!(parse_key_id("xyz").is_err());
        assert!(parse_key_id("0123456789abcdeg").is_err());
    }

    #[test]
    fn chunks_cover_the_data() {
        let data: Vec<u8> = (0..10u8).collect();
        let parts: Vec<&[u8]> = chunked(&data, 4).collect();
        assert_eq!(parts, vec![&data[0..4], &data[4..8], &data[8..10]]);
        assert_eq!(chunked(&[], 4).count(), 1);
    }
}
