//! A buffered, forward-only view of the image being read that knows its byte offset.

use std::io::{self, Read, Seek, SeekFrom};

use crate::VmdkError;

const BUF: usize = 64 * 1024;

/// Moves a seekable reader to an absolute offset.
pub(crate) type SeekFn<R> = fn(&mut R, u64) -> io::Result<()>;

/// The [`SeekFn`] of a `Read + Seek` reader.
pub(crate) fn seek_fn<R: Seek>() -> SeekFn<R> {
    |r, pos| r.seek(SeekFrom::Start(pos)).map(|_| ())
}

pub(crate) struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    seek: Option<SeekFn<R>>,
}

impl<R: Read> Input<R> {
    /// Reads `inner`, whose first bytes (already taken from it) are `head`.
    pub fn new(inner: R, head: &[u8], seek: Option<SeekFn<R>>) -> Self {
        let mut buf = vec![0; BUF.max(head.len())];
        buf[..head.len()].copy_from_slice(head);
        Input {
            inner,
            buf,
            start: 0,
            end: head.len(),
            pos: 0,
            seek,
        }
    }

    /// The file offset of the next byte.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn seekable(&self) -> bool {
        self.seek.is_some()
    }

    fn read_inner(&mut self, into: &mut [u8], at: u64) -> Result<usize, VmdkError> {
        loop {
            match self.inner.read(into) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(VmdkError::Read { offset: at, source }),
            }
        }
    }

    /// Buffered bytes, refilled when empty; empty at the end of the input.
    fn fill(&mut self) -> Result<&[u8], VmdkError> {
        if self.start == self.end {
            let n = {
                let at = self.pos;
                let mut buf = std::mem::take(&mut self.buf);
                let r = self.read_inner(&mut buf, at);
                self.buf = buf;
                r?
            };
            self.start = 0;
            self.end = n;
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// Fills `out` from the input; its end before `out` is full is [`VmdkError::Truncated`]
    /// naming `what`.
    pub fn read_exact(
        &mut self,
        out: &mut [u8],
        what: &dyn Fn() -> String,
    ) -> Result<(), VmdkError> {
        let mut done = 0;
        while done < out.len() {
            let n = if self.start == self.end && out.len() - done >= BUF {
                // Large reads bypass the buffer.
                let n = self.read_inner(&mut out[done..], self.pos)?;
                self.pos += n as u64;
                n
            } else {
                let avail = self.fill()?;
                let n = avail.len().min(out.len() - done);
                out[done..done + n].copy_from_slice(&avail[..n]);
                self.consume(n);
                n
            };
            if n == 0 {
                return Err(VmdkError::truncated(
                    self.pos,
                    format!(
                        "{}: {} bytes from byte {}, only {done} there",
                        what(),
                        out.len(),
                        self.pos - done as u64
                    ),
                ));
            }
            done += n;
        }
        Ok(())
    }

    /// Moves to file offset `target`: forward by reading (or seeking), backward only by
    /// seeking; a forward-only input that is already past it is an error naming `what`.
    pub fn skip_to(&mut self, target: u64, what: &dyn Fn() -> String) -> Result<(), VmdkError> {
        if target < self.pos || target - self.pos > (self.end - self.start) as u64 {
            if let Some(seek) = self.seek {
                seek(&mut self.inner, target).map_err(|source| VmdkError::Read {
                    offset: target,
                    source,
                })?;
                self.pos = target;
                self.start = 0;
                self.end = 0;
                return Ok(());
            }
        }
        if target < self.pos {
            return Err(VmdkError::Unsupported(format!(
                "{} at byte {target} comes before byte {} already read, and the input cannot \
                 seek back: a streamed image needs its metadata before its grains",
                what(),
                self.pos
            )));
        }
        while self.pos < target {
            let avail = self.fill()?.len();
            if avail == 0 {
                return Err(VmdkError::truncated(
                    self.pos,
                    format!("{} at byte {target} is past the end", what()),
                ));
            }
            let n = avail.min(usize::try_from(target - self.pos).unwrap_or(usize::MAX));
            self.consume(n);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(data: &[u8], head: usize, seek: bool) -> Input<std::io::Cursor<Vec<u8>>> {
        let mut c = std::io::Cursor::new(data.to_vec());
        c.set_position(head as u64);
        let s = seek.then(seek_fn::<std::io::Cursor<Vec<u8>>>);
        Input::new(c, &data[..head], s)
    }

    #[test]
    fn reads_across_the_head_and_the_buffer() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut i = input(&data, 100, false);
        let mut a = vec![0; 70_000];
        i.read_exact(&mut a, &|| "a".into()).unwrap();
        assert_eq!(a, data[..70_000]);
        i.skip_to(70_010, &|| "b".into()).unwrap();
        let mut b = vec![0; 100_000];
        i.read_exact(&mut b, &|| "b".into()).unwrap();
        assert_eq!(b, data[70_010..170_010]);
        assert_eq!(i.pos(), 170_010);
        match i.read_exact(&mut vec![0; 40_000], &|| "the end".into()) {
            Err(VmdkError::Truncated { offset, what }) => {
                assert_eq!(offset, 200_000);
                assert_eq!(
                    what,
                    "the end: 40000 bytes from byte 170010, only 29990 there"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn going_back_needs_a_seekable_reader() {
        let data = vec![7u8; 5000];
        let mut i = input(&data, 0, false);
        i.skip_to(3000, &|| "x".into()).unwrap();
        assert!(matches!(
            i.skip_to(100, &|| "table".into()),
            Err(VmdkError::Unsupported(_))
        ));
        assert!(matches!(
            i.skip_to(9000, &|| "far".into()),
            Err(VmdkError::Truncated { offset: 5000, .. })
        ));
        let mut i = input(&data, 512, true);
        i.skip_to(3000, &|| "x".into()).unwrap();
        i.skip_to(100, &|| "back".into()).unwrap();
        let mut b = [0u8; 10];
        i.read_exact(&mut b, &|| "b".into()).unwrap();
        assert_eq!((i.pos(), b), (110, [7; 10]));
    }

    #[test]
    fn read_errors_carry_the_offset() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let mut i = Input::new(Broken, &[1, 2, 3], None);
        let mut b = [0u8; 5];
        match i.read_exact(&mut b, &|| "x".into()) {
            Err(VmdkError::Read { offset: 3, source }) => {
                assert_eq!(source.kind(), io::ErrorKind::ConnectionReset)
            }
            other => panic!("{other:?}"),
        }
    }
}
