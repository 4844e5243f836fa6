//! A buffered file writer whose `write` system calls run on a helper thread, so that encoding
//! the next rows overlaps with the kernel copying the previous ones into the page cache (on the
//! machines we measured, writing 50 MB to disk costs about as much as encoding it).

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes handed to the helper thread at a time.
const CHUNK: usize = 1 << 20;
/// Chunks that may wait for the helper thread; bounds the memory used.
const QUEUE: usize = 4;

/// A `Write` that forwards full chunks to a thread owning the file.
pub(crate) struct BackgroundWriter {
    buffer: Vec<u8>,
    sender: Option<SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl BackgroundWriter {
    pub fn new(mut file: File) -> io::Result<Self> {
        let (sender, receiver) = sync_channel::<Vec<u8>>(QUEUE);
        let thread = std::thread::Builder::new().name("pol-write".into()).spawn(move || {
            for chunk in receiver {
                file.write_all(&chunk)?;
            }
            Ok(())
        })?;
        Ok(BackgroundWriter { buffer: Vec::with_capacity(CHUNK), sender: Some(sender), thread: Some(thread) })
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        let stopped = || io::Error::other("the background file writer stopped");
        self.sender.as_ref().ok_or_else(stopped)?.send(chunk).map_err(|_| stopped())
    }

    /// Sends the last bytes and waits until every byte has been written.
    pub fn finish(&mut self) -> io::Result<()> {
        let sent = self.send();
        self.sender.take();
        let joined = match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| Err(io::Error::other("the background file writer panicked"))),
            None => Ok(()),
        };
        // The helper's own error explains a failed send better than the send does.
        joined.and(sent)
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.buffer.len() + bytes.len() > CHUNK {
            self.send()?;
        }
        if bytes.len() >= CHUNK {
            let stopped = || io::Error::other("the background file writer stopped");
            self.sender.as_ref().ok_or_else(stopped)?.send(bytes.to_vec()).map_err(|_| stopped())?;
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
