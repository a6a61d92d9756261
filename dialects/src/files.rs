//! Reading the files a user names: regular files only (a FIFO would block
//! forever, a device never end), and no larger than the caller's limit.

use std::io::Read;
use std::path::Path;

/// The largest model, program or input file read (4 GiB; a protobuf
/// message cannot exceed 2 GiB anyway).
pub const MAX_INPUT_FILE_BYTES: u64 = 4 << 30;

/// The contents of `path`, if it is a regular file of at most `limit`
/// bytes; the error names the file.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "a FIFO, device or socket"
        };
        return Err(format!("{name}: not a regular file ({kind})"));
    }
    if meta.len() > limit {
        return Err(format!(
            "{name}: {} bytes, more than the {limit} this tool reads",
            meta.len()
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take`: a file that grows while it is read still stops at the limit.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{name}: more than the {limit} bytes this tool reads"
        ));
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path, limit: u64) -> Result<String, String> {
    String::from_utf8(read_regular(path, limit)?)
        .map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit() {
        let dir = std::env::temp_dir().join(format!("orion-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.txt");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(read_regular(&f, 5).unwrap(), b"hello");
        assert!(read_regular(&f, 4).unwrap_err().contains("more than the 4"));
        assert!(read_regular(&dir, 100).unwrap_err().contains("a directory"));
        assert!(read_regular(Path::new("/dev/zero"), 100)
            .unwrap_err()
            .contains("not a regular file"));
        assert!(read_regular(&dir.join("missing"), 100).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
