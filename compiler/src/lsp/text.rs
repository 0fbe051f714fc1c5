//! Positions and addresses: byte offsets of the compiler's spans against the
//! LSP's (line, UTF-16 column) positions, and `file://` URIs against paths.

use lsp_types::{Position, Range, Uri};
use std::path::{Path, PathBuf};

/// The byte offset of every line start of a text, to turn offsets into
/// LSP positions and back (columns count UTF-16 code units, as LSP says).
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// The position of byte `offset` of `text` (clamped to the text; an
    /// offset inside a char counts from that char's start).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut at = offset.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= at) - 1;
        let col: usize = text[self.starts[line]..at]
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(line as u32, col as u32)
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(self.position(text, start), self.position(text, end))
    }

    /// The byte offset of `pos` in `text`: a column past the end of its
    /// line is the line's end, a line past the end is the text's end.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let line_end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&next| next - 1);
        let mut units = 0;
        for (i, c) in text[start..line_end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        line_end
    }
}

/// The path of a `file:` URI (percent-escapes decoded); `None` for other
/// schemes.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text.strip_prefix("file://")?;
    // `file://host/path`: only the local host (empty) is ours.
    let path = if rest.starts_with('/') {
        rest
    } else {
        rest.strip_prefix("localhost")?
    };
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
}

/// The `file:` URI of `path` (made absolute against the current directory;
/// bytes outside the unreserved set and `/` are percent-escaped).
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut text = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            text.push(b as char);
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        // `λ` is 2 bytes and 1 UTF-16 unit; `𝕩` is 4 bytes and 2 units.
        let text = "(a)\n λ𝕩 x\nend";
        let idx = LineIndex::new(text);
        let x = text.find(" x").unwrap() + 1;
        assert_eq!(idx.position(text, x), Position::new(1, 5));
        assert_eq!(idx.offset(text, Position::new(1, 5)), x);
        assert_eq!(
            idx.offset(text, Position::new(1, 99)),
            text.find("\nend").unwrap()
        );
        assert_eq!(idx.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(idx.position(text, text.len()), Position::new(2, 3));
    }

    #[test]
    fn uris_and_paths() {
        let uri = path_to_uri(Path::new("/tmp/a b/λ.omni")).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%CE%BB.omni");
        assert_eq!(uri_to_path(&uri).unwrap(), PathBuf::from("/tmp/a b/λ.omni"));
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(uri_to_path(&untitled), None);
    }
}
