//! A request's payload, whatever its size. Small payloads stay in memory; a large one (a batch
//! of tens or hundreds of MB) is spooled to an anonymous temporary file as it arrives, so a
//! request costs a few buffers of memory however big it is. Length, SHA-1 and the first bytes
//! (enough for the ISA/GS/ST control numbers) are computed on the way in, so nobody has to
//! read a spooled payload back just to check or log it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use sha1::{Digest, Sha1};

/// Bytes kept in memory as the payload's head (an ISA is 106 bytes; GS and ST follow).
const HEAD_BYTES: usize = 4096;

/// Size of the pieces a spooled payload is read back in.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// Where and when payloads go to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolPolicy {
    /// Payloads up to this many bytes stay in memory.
    pub memory_bytes: usize,
    /// Largest payload accepted at all.
    pub max_bytes: u64,
    /// Directory of the temporary files; `None` is the system's temporary directory.
    pub dir: Option<PathBuf>,
}

impl Default for SpoolPolicy {
    fn default() -> Self {
        Self {
            memory_bytes: 1024 * 1024,
            max_bytes: 1024 * 1024 * 1024,
            dir: None,
        }
    }
}

/// Why a payload could not be taken in.
#[derive(Debug)]
pub enum SpoolError {
    /// More than [`SpoolPolicy::max_bytes`].
    TooLarge { limit: u64 },
    /// The temporary file could not be made or written (the gateway's fault).
    Io(io::Error),
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "the payload is larger than {limit} bytes"),
            Self::Io(e) => write!(f, "spooling the payload to disk failed: {e}"),
        }
    }
}

impl std::error::Error for SpoolError {}

/// A payload: its bytes (in memory or in a temporary file that disappears with the last
/// clone), length, SHA-1 and head.
#[derive(Clone)]
pub struct Payload {
    data: Data,
    len: u64,
    sha1: [u8; 20],
    head: Bytes,
}

#[derive(Clone)]
enum Data {
    Memory(Bytes),
    /// Anonymous (already unlinked) file: nothing is left behind on a crash.
    Spooled(Arc<std::fs::File>),
}

impl Payload {
    /// A payload already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let sha1 = Sha1::digest(&bytes).into();
        let len = bytes.len() as u64;
        // Bytes takes the Vec without copying; the head is a view of it.
        let data = Bytes::from(bytes);
        let head = data.slice(..data.len().min(HEAD_BYTES));
        Self {
            data: Data::Memory(data),
            len,
            sha1,
            head,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// SHA-1 of the whole payload, lower-case hex.
    pub fn sha1_hex(&self) -> String {
        crate::core::validate::hex(&self.sha1)
    }

    /// The first bytes (up to 4 KiB), for control numbers and test-mode flags.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The whole payload when it is in memory (real-time requests always are: they are small).
    pub fn in_memory(&self) -> Option<&[u8]> {
        match &self.data {
            Data::Memory(b) => Some(b),
            Data::Spooled(_) => None,
        }
    }

    /// Whether the payload went to a temporary file.
    pub fn is_spooled(&self) -> bool {
        matches!(self.data, Data::Spooled(_))
    }

    /// The payload as a stream of pieces of at most [`CHUNK_BYTES`], read back from disk one at
    /// a time when spooled. Each call starts from the beginning.
    pub fn chunks(&self) -> impl Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static {
        let data = self.data.clone();
        let len = self.len;
        Box::pin(futures_util::stream::try_unfold(0u64, move |at| {
            let data = data.clone();
            async move {
                if at >= len {
                    return Ok(None);
                }
                let want = usize::try_from((len - at).min(CHUNK_BYTES as u64)).unwrap_or(0);
                let piece = match data {
                    Data::Memory(b) => {
                        let start = usize::try_from(at).unwrap_or(usize::MAX);
                        b.slice(start..start + want)
                    }
                    Data::Spooled(file) => tokio::task::spawn_blocking(move || {
                        let mut buf = vec![0; want];
                        read_exact_at(&file, &mut buf, at)?;
                        Ok::<_, io::Error>(Bytes::from(buf))
                    })
                    .await
                    .map_err(io::Error::other)??,
                };
                Ok(Some((piece, at + want as u64)))
            }
        }))
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Size and digest only: the contents are PHI.
        f.debug_struct("Payload")
            .field("len", &self.len)
            .field("sha1", &self.sha1_hex())
            .field("spooled", &self.is_spooled())
            .finish()
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.sha1 == other.sha1
    }
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// Takes a payload in piece by piece: memory first, a temporary file once it passes
/// [`SpoolPolicy::memory_bytes`].
pub struct PayloadWriter {
    policy: SpoolPolicy,
    memory: Vec<u8>,
    file: Option<tokio::fs::File>,
    len: u64,
    sha1: Sha1,
    head: Vec<u8>,
}

impl PayloadWriter {
    pub fn new(policy: &SpoolPolicy) -> Self {
        Self {
            policy: policy.clone(),
            memory: Vec::new(),
            file: None,
            len: 0,
            sha1: Sha1::new(),
            head: Vec::new(),
        }
    }

    /// Bytes taken so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub async fn write(&mut self, piece: &[u8]) -> Result<(), SpoolError> {
        if piece.is_empty() {
            return Ok(());
        }
        let len = self.len.saturating_add(piece.len() as u64);
        if len > self.policy.max_bytes {
            return Err(SpoolError::TooLarge {
                limit: self.policy.max_bytes,
            });
        }
        self.len = len;
        self.sha1.update(piece);
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(piece.len());
            self.head.extend_from_slice(&piece[..take]);
        }
        use tokio::io::AsyncWriteExt as _;
        if let Some(file) = &mut self.file {
            return file.write_all(piece).await.map_err(SpoolError::Io);
        }
        if self.memory.len() + piece.len() <= self.policy.memory_bytes {
            self.memory.extend_from_slice(piece);
            return Ok(());
        }
        let dir = self.policy.dir.clone().unwrap_or_else(std::env::temp_dir);
        let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
            .await
            .map_err(|e| SpoolError::Io(io::Error::other(e)))?
            .map_err(SpoolError::Io)?;
        let mut file = tokio::fs::File::from_std(file);
        let memory = std::mem::take(&mut self.memory);
        file.write_all(&memory).await.map_err(SpoolError::Io)?;
        file.write_all(piece).await.map_err(SpoolError::Io)?;
        self.file = Some(file);
        Ok(())
    }

    /// The payload, its bytes on disk (flushed) when it was spooled.
    pub async fn finish(self) -> Result<Payload, SpoolError> {
        let sha1 = self.sha1.finalize().into();
        let data = match self.file {
            None => Data::Memory(Bytes::from(self.memory)),
            Some(mut file) => {
                use tokio::io::AsyncWriteExt as _;
                file.flush().await.map_err(SpoolError::Io)?;
                Data::Spooled(Arc::new(file.into_std().await))
            }
        };
        Ok(Payload {
            data,
            len: self.len,
            sha1,
            head: Bytes::from(self.head),
        })
    }
}

impl fmt::Debug for PayloadWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayloadWriter")
            .field("len", &self.len)
            .field("spooled", &self.file.is_some())
            .finish()
    }
}

/// Decodes base64 that arrives in pieces (a part with `Content-Transfer-Encoding: base64`),
/// ignoring line breaks and other white space between characters.
#[derive(Debug, Default)]
pub struct Base64Pieces {
    carry: Vec<u8>,
    padded: bool,
}

impl Base64Pieces {
    /// Decodes what can be decoded so far; keeps up to three characters for the next piece.
    pub fn feed(&mut self, piece: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
        use base64::Engine as _;
        self.carry
            .extend(piece.iter().copied().filter(|b| !b.is_ascii_whitespace()));
        let whole = self.carry.len() / 4 * 4;
        if whole == 0 {
            return Ok(Vec::new());
        }
        if self.padded {
            // Data after the padding that ends base64 text.
            return Err(base64::DecodeError::InvalidByte(0, self.carry[0]));
        }
        let out = base64::engine::general_purpose::STANDARD.decode(&self.carry[..whole])?;
        self.padded = self.carry[whole - 1] == b'=';
        self.carry.drain(..whole);
        Ok(out)
    }

    /// Ends the text: anything left over is an incomplete group.
    pub fn finish(self) -> Result<(), base64::DecodeError> {
        match self.carry.len() {
            0 => Ok(()),
            n => Err(base64::DecodeError::InvalidLength(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use futures_util::TryStreamExt as _;

    async fn collect(p: &Payload) -> Vec<u8> {
        let pieces: Vec<Bytes> = p.chunks().try_collect().await.unwrap();
        pieces.concat()
    }

    #[tokio::test]
    async fn small_payloads_stay_in_memory_and_large_ones_spool() {
        let policy = SpoolPolicy {
            memory_bytes: 10,
            ..SpoolPolicy::default()
        };
        let mut w = PayloadWriter::new(&policy);
        w.write(b"ISA*00*").await.unwrap();
        let small = w.finish().await.unwrap();
        assert_eq!(small.in_memory(), Some(&b"ISA*00*"[..]));
        assert_eq!(small.head(), b"ISA*00*");
        assert_eq!(
            small.sha1_hex(),
            crate::core::validate::sha1_hex(b"ISA*00*")
        );

        let big: Vec<u8> = (0..3 * CHUNK_BYTES + 17).map(|i| (i % 251) as u8).collect();
        let mut w = PayloadWriter::new(&policy);
        for piece in big.chunks(7000) {
            w.write(piece).await.unwrap();
        }
        let spooled = w.finish().await.unwrap();
        assert!(spooled.is_spooled());
        assert_eq!(spooled.in_memory(), None);
        assert_eq!(spooled.len(), big.len() as u64);
        assert_eq!(spooled.head(), &big[..HEAD_BYTES]);
        assert_eq!(spooled.sha1_hex(), crate::core::validate::sha1_hex(&big));
        // Read back twice (each stream starts over), also through a clone.
        assert_eq!(collect(&spooled).await, big);
        assert_eq!(collect(&spooled.clone()).await, big);
        assert_eq!(spooled, Payload::from_bytes(big));
    }

    #[tokio::test]
    async fn the_limit_is_enforced_while_writing() {
        let policy = SpoolPolicy {
            memory_bytes: 4,
            max_bytes: 10,
            dir: None,
        };
        let mut w = PayloadWriter::new(&policy);
        w.write(b"0123456789").await.unwrap();
        assert!(matches!(
            w.write(b"x").await,
            Err(SpoolError::TooLarge { limit: 10 })
        ));
    }

    #[tokio::test]
    async fn memory_chunks_split_at_chunk_size() {
        let p = Payload::from_bytes(vec![7; CHUNK_BYTES + 1]);
        let pieces: Vec<Bytes> = p.chunks().try_collect().await.unwrap();
        assert_eq!(
            pieces.iter().map(Bytes::len).collect::<Vec<_>>(),
            [CHUNK_BYTES, 1]
        );
        assert!(
            Payload::from_bytes(Vec::new())
                .chunks()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn base64_in_pieces() {
        use base64::Engine as _;
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        // Line-wrapped at 76 like MIME, fed in awkward piece sizes.
        let wrapped: Vec<u8> = text
            .as_bytes()
            .chunks(76)
            .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
            .collect();
        for size in [1, 3, 5, 64, 4096] {
            let mut d = Base64Pieces::default();
            let mut out = Vec::new();
            for piece in wrapped.chunks(size) {
                out.extend(d.feed(piece).unwrap());
            }
            d.finish().unwrap();
            assert_eq!(out, data, "piece size {size}");
        }
        assert!(Base64Pieces::default().feed(b"QQ==QQ==").is_err());
        let mut d = Base64Pieces::default();
        assert_eq!(d.feed(b"QQ==").unwrap(), b"A");
        assert!(d.feed(b"QQ==").is_err());
        let mut d = Base64Pieces::default();
        d.feed(b"QUJD").unwrap();
        d.feed(b"QQ").unwrap();
        assert!(d.finish().is_err());
        let mut d = Base64Pieces::default();
        assert!(d.feed(b"Q!==").is_err());
    }
}
