//! Text encodings of CSV files: GB18030 (which decodes every GBK and GB2312 file the same) to
//! UTF-8 as a stream, refusing malformed bytes with their offset instead of replacing them, and
//! the detection of an undeclared encoding.

use std::io::{self, Read};

use encoding_rs::{DecoderResult, GB18030};

use crate::binding::Encoding;

/// Bytes looked at to tell UTF-8 from GB18030.
const SNIFF_BYTES: usize = 1 << 20;

/// The encoding of a file starting with `head`: a UTF-8 byte-order mark or valid UTF-8 (an
/// incomplete character cut by the end of `head` allowed) is UTF-8; anything else GB18030.
pub(crate) fn detect(head: &[u8]) -> Encoding {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Gb18030,
    }
}

/// The encoding of the text file at `path`, as a CSV source with `encoding = "auto"` reads it.
pub fn detect_encoding(path: &std::path::Path) -> io::Result<Encoding> {
    Ok(detect(&sniff(path)?))
}

/// Reads the first bytes of a file for [`detect`].
pub(crate) fn sniff(path: &std::path::Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A UTF-8 stream without its byte-order mark.
pub(crate) struct SkipBom<R> {
    inner: R,
    checked: bool,
    pending: Vec<u8>,
}

impl<R: Read> SkipBom<R> {
    pub fn new(inner: R) -> Self {
        SkipBom { inner, checked: false, pending: Vec::new() }
    }
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let mut head = [0u8; 3];
            let mut n = 0;
            while n < 3 {
                let k = self.inner.read(&mut head[n..])?;
                if k == 0 {
                    break;
                }
                n += k;
            }
            if &head[..n] != b"\xEF\xBB\xBF" {
                self.pending = head[..n].to_vec();
            }
        }
        if !self.pending.is_empty() {
            let k = self.pending.len().min(buf.len());
            buf[..k].copy_from_slice(&self.pending[..k]);
            self.pending.drain(..k);
            return Ok(k);
        }
        self.inner.read(buf)
    }
}

/// GB18030 bytes read as UTF-8; a malformed byte sequence is an error naming its offset.
pub(crate) struct Gb18030Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    /// Undecoded input bytes start at `input[start..]`.
    start: usize,
    output: Vec<u8>,
    out_start: usize,
    /// Bytes of the file consumed by the decoder so far.
    offset: u64,
    eof: bool,
    /// The decoder has seen the end of the stream (it must not be called again).
    finished: bool,
}

impl<R: Read> Gb18030Reader<R> {
    pub fn new(inner: R) -> Self {
        Gb18030Reader {
            inner,
            decoder: GB18030.new_decoder_without_bom_handling(),
            input: Vec::new(),
            start: 0,
            output: Vec::with_capacity(1 << 17),
            out_start: 0,
            offset: 0,
            eof: false,
            finished: false,
        }
    }

    /// Decodes more input into `output`; `false` at the end of the stream.
    fn fill(&mut self) -> io::Result<bool> {
        loop {
            if self.finished {
                return Ok(false);
            }
            if self.start == self.input.len() && !self.eof {
                self.input.resize(1 << 16, 0);
                let n = self.inner.read(&mut self.input)?;
                self.input.truncate(n);
                self.start = 0;
                self.eof = n == 0;
            }
            let src = &self.input[self.start..];
            let room = self.decoder.max_utf8_buffer_length_without_replacement(src.len()).unwrap_or(src.len() * 4 + 16).max(16);
            self.output.clear();
            self.output.resize(room, 0);
            self.out_start = 0;
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(src, &mut self.output, self.eof);
            self.output.truncate(written);
            self.start += read;
            self.offset += read as u64;
            match result {
                DecoderResult::Malformed(bad, after) => {
                    let at = self.offset - u64::from(after) - u64::from(bad);
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "byte {at} is not valid GB18030/GBK text (is the file in another encoding? say so in the binding: `encoding = \"utf-8\"`)"
                        ),
                    ));
                }
                DecoderResult::InputEmpty if self.eof => self.finished = true,
                _ => {}
            }
            if written > 0 {
                return Ok(true);
            }
        }
    }
}

impl<R: Read> Read for Gb18030Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_start == self.output.len() && !self.fill()? {
            return Ok(0);
        }
        let k = (self.output.len() - self.out_start).min(buf.len());
        buf[..k].copy_from_slice(&self.output[self.out_start..self.out_start + k]);
        self.out_start += k;
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], chunk: usize) -> io::Result<String> {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let k = self.0.len().min(self.1).min(buf.len());
                buf[..k].copy_from_slice(&self.0[..k]);
                self.0 = &self.0[k..];
                Ok(k)
            }
        }
        let mut out = String::new();
        Gb18030Reader::new(Chunks(bytes, chunk)).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn gbk_decodes_across_any_chunking_and_malformed_bytes_are_errors() {
        let text = "人员编号,姓名,性别\n1,张三,男\n2,李四,女\n";
        let (bytes, _, _) = GB18030.encode(text);
        for chunk in [1, 2, 3, 7, 4096] {
            assert_eq!(decode(&bytes, chunk).expect("decodes"), text, "chunks of {chunk}");
        }
        let mut bad = bytes.to_vec();
        bad[12] = 0xFF;
        let err = decode(&bad, 5).expect_err("0xFF is not GB18030");
        // Byte 12 is the second byte of 名 (bytes 11-12): the malformed sequence starts at 11.
        assert!(err.to_string().contains("byte 11 "), "{err}");
    }

    #[test]
    fn detection_and_bom() {
        assert_eq!(detect("编号".as_bytes()), Encoding::Utf8);
        assert_eq!(detect(&GB18030.encode("编号,姓名").0), Encoding::Gb18030);
        assert_eq!(detect(&"编号".as_bytes()[..4]), Encoding::Utf8, "a character cut by the sniff window");
        let mut out = String::new();
        SkipBom::new(&b"\xEF\xBB\xBFid\n1\n"[..]).read_to_string(&mut out).expect("read");
        assert_eq!(out, "id\n1\n");
    }
}
