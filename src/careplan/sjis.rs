//! Shift-JIS (MS932) in and out, as the specification asks: "Shift-JIS(MS932)とし、出力される
//! CSVファイルには、Shift-JIS(MS932)の範囲外の文字は含まないものとする。外字の利用は不可".
//!
//! `encoding_rs::SHIFT_JIS` is the WHATWG Shift_JIS, which is Windows-31J (MS932) in practice:
//! it decodes the NEC and IBM extensions and maps the user-defined area (外字, lead bytes
//! F0–F9) to the Private Use Area, which we refuse. Decoding reports the byte offset of the
//! first byte that is not MS932; encoding refuses a character MS932 cannot hold, naming it.
//! Where MS932 has two byte sequences for one character (NEC and IBM duplicates such as ∵ or
//! ⅰ), the encoder writes the one WHATWG chooses: a file we write reads back byte for byte, a
//! file written with the other sequence reads back to the same text.

use encoding_rs::{DecoderResult, EncoderResult, SHIFT_JIS};

/// Why bytes are not MS932 text, or text cannot be MS932.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SjisError {
    /// A byte sequence that is not MS932, at this offset from the start of the file.
    Malformed { offset: usize },
    /// A 外字 (a character of the user-defined area), at this offset.
    Gaiji { offset: usize },
    /// A character MS932 has no bytes for.
    Unmappable { character: char },
}

impl std::fmt::Display for SjisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed { offset } => write!(f, "byte {offset} is not Shift-JIS (MS932)"),
            Self::Gaiji { offset } => {
                write!(f, "byte {offset} is a 外字 (user-defined character), which is not allowed")
            }
            Self::Unmappable { character } => {
                write!(f, "the character {character:?} (U+{:04X}) is outside MS932", u32::from(*character))
            }
        }
    }
}

fn is_gaiji(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
}

/// Decodes a whole file, refusing a malformed sequence or a 外字 with its byte offset.
pub fn decode(bytes: &[u8]) -> Result<String, SjisError> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3);
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        DecoderResult::InputEmpty => {}
        DecoderResult::Malformed(bad, after) => {
            // `read` counts the bad sequence and the bytes consumed after it.
            let offset = read.saturating_sub(usize::from(bad) + usize::from(after));
            return Err(SjisError::Malformed { offset });
        }
        DecoderResult::OutputFull => return Err(SjisError::Malformed { offset: read }),
    }
    if out.chars().any(is_gaiji) {
        // Find the byte offset: re-encode the text before it (its bytes are the file's).
        let before: String = out.chars().take_while(|c| !is_gaiji(*c)).collect();
        let offset = encode(&before).map(|b| b.len()).unwrap_or(0);
        return Err(SjisError::Gaiji { offset });
    }
    Ok(out)
}

/// Encodes text, refusing a character MS932 cannot hold (never a replacement or a `&#...;`).
pub fn encode(text: &str) -> Result<Vec<u8>, SjisError> {
    if let Some(character) = text.chars().find(|c| is_gaiji(*c)) {
        return Err(SjisError::Unmappable { character });
    }
    let mut encoder = SHIFT_JIS.new_encoder();
    let capacity = encoder.max_buffer_length_from_utf8_without_replacement(text.len()).unwrap_or(text.len() * 2);
    let mut out = Vec::with_capacity(capacity);
    let (result, _) = encoder.encode_from_utf8_to_vec_without_replacement(text, &mut out, true);
    match result {
        EncoderResult::InputEmpty => Ok(out),
        EncoderResult::Unmappable(character) => Err(SjisError::Unmappable { character }),
        EncoderResult::OutputFull => Err(SjisError::Unmappable { character: '\u{FFFD}' }),
    }
}

/// The first character of `text` MS932 cannot hold, if any.
pub fn unmappable(text: &str) -> Option<char> {
    match encode(text) {
        Err(SjisError::Unmappable { character }) => Some(character),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        let text = "山田 ﾊﾅｺ ①髙";
        let bytes = encode(text).unwrap();
        assert_eq!(decode(&bytes).unwrap(), text);
        // A lone lead byte at the end.
        let mut bad = encode("あい").unwrap();
        bad.push(0x81);
        assert_eq!(decode(&bad), Err(SjisError::Malformed { offset: 4 }));
        // A 外字 (F040).
        let mut gaiji = encode("あ").unwrap();
        gaiji.extend([0xF0, 0x40]);
        assert_eq!(decode(&gaiji), Err(SjisError::Gaiji { offset: 2 }));
        assert_eq!(unmappable("𠮷野家"), Some('𠮷'));
        assert_eq!(unmappable("吉野家"), None);
    }
}
