//! A buffered file writer whose `write` system calls run on a helper thread, so that encoding
//! the next rows overlaps with the kernel copying the previous ones into the page cache (on the
//! machines we measured, writing 50 MB to disk costs about as much as encoding it). The helper
//! also hashes what it writes (SHA-256, for the run's manifest), off the encoding thread.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes handed to the helper thread at a time.
const CHUNK: usize = 1 << 20;
/// Chunks that may wait for the helper thread; bounds the memory used.
const QUEUE: usize = 4;

/// What was written: the byte count and the SHA-256 of the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    pub bytes: u64,
    pub sha256: [u8; 32],
}

/// A `Write` that forwards full chunks to a thread owning the file.
pub(crate) struct BackgroundWriter {
    buffer: Vec<u8>,
    sender: Option<SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<io::Result<Written>>>,
    /// The helper's error, once it has stopped on one: every later call reports it.
    failed: Option<(io::ErrorKind, String)>,
}

impl BackgroundWriter {
    pub fn new(mut file: File) -> io::Result<Self> {
        let (sender, receiver) = sync_channel::<Vec<u8>>(QUEUE);
        let thread = std::thread::Builder::new().name("pol-write".into()).spawn(move || {
            let mut hash = Sha256::new();
            let mut bytes = 0u64;
            for chunk in receiver {
                file.write_all(&chunk)?;
                hash.update(&chunk);
                bytes += chunk.len() as u64;
            }
            Ok(Written { bytes, sha256: hash.finalize().into() })
        })?;
        Ok(BackgroundWriter { buffer: Vec::with_capacity(CHUNK), sender: Some(sender), thread: Some(thread), failed: None })
    }

    /// The helper thread's own error (disk full, say), which explains a failed send: the
    /// channel only says that the thread stopped.
    fn stopped(&mut self) -> io::Error {
        if self.failed.is_none() {
            self.sender.take();
            let why = match self.thread.take().map(JoinHandle::join) {
                Some(Ok(Err(e))) => (e.kind(), e.to_string()),
                Some(Err(_)) => (io::ErrorKind::Other, "the file writer thread panicked".to_string()),
                _ => (io::ErrorKind::Other, "the file writer thread stopped".to_string()),
            };
            self.failed = Some(why);
        }
        let (kind, message) = self.failed.clone().unwrap_or((io::ErrorKind::Other, String::new()));
        io::Error::new(kind, message)
    }

    fn hand_over(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        if self.failed.is_some() {
            return Err(self.stopped());
        }
        let sent = self.sender.as_ref().map(|s| s.send(chunk));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.stopped()),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.hand_over(chunk)
    }

    /// Sends the last bytes and waits until every byte has been written.
    pub fn finish(&mut self) -> io::Result<Written> {
        self.send()?;
        self.sender.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the file writer thread panicked")),
            None => Err(self.stopped()),
        }
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.buffer.len() + bytes.len() > CHUNK {
            self.send()?;
        }
        if bytes.len() >= CHUNK {
            self.hand_over(bytes.to_vec())?;
        } else {
            self.buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    /// Hands buffered bytes to the helper thread; [`BackgroundWriter::finish`] waits for them.
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
