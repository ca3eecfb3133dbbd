//! Parallel deflate: the input cut into blocks, each compressed on its own core into a
//! piece of one raw deflate stream (as `pigz` does), the pieces written in order and
//! their CRC-32s combined. Knows nothing of zip: `zipwrite` puts the stream in an entry.
//!
//! Every block but the last ends with a sync flush (an empty stored block), so its bits
//! stop on a byte boundary with no "final" bit and the next block's bytes can simply
//! follow; the last block finishes the stream. Each block is primed with the 32 KiB
//! before it as its dictionary, so matches reach across the cut as in one stream and the
//! ratio stays that of a single deflate. Never holds more than a few blocks per thread.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use flate2::{Compress, Compression, FlushCompress, Status};

use crate::work::Cancel;

/// Bytes per block: large enough that the dictionary and flush per block cost little
/// (pigz uses 128 KiB), small enough that a few per thread stay a few MiB.
pub(crate) const BLOCK: usize = 1 << 20;
/// Deflate's window: all a block's matches can reach back.
const WINDOW: usize = 32 * 1024;
/// Blocks read but not yet written, per thread: enough to keep every core busy while
/// the writer waits for the oldest one.
const IN_FLIGHT_PER_THREAD: usize = 3;

/// How to compress.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub block: usize,
    pub threads: usize,
    /// Deflate level; `None` stores the bytes as they are (the same pipeline, for the
    /// CRC-32 and the hash beside it).
    pub level: Option<u32>,
}

impl Options {
    /// Level 1 (or stored) in [`BLOCK`]s on every core.
    pub fn new(compress: bool) -> Options {
        Options {
            block: BLOCK,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            level: compress.then_some(1),
        }
    }
}

/// What was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// CRC-32 of the plain input.
    pub crc32: u32,
    /// Plain bytes read.
    pub plain: u64,
    /// Bytes given to the sink.
    pub written: u64,
}

/// Why compressing stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    Read(io::Error),
    Write(io::Error),
    Cancelled,
    /// The compressor refused (never expected: a bug, or memory exhausted).
    Deflate(String),
}

struct Job {
    index: u64,
    data: Arc<Vec<u8>>,
    /// The block before this one, whose end is this block's dictionary.
    before: Option<Arc<Vec<u8>>>,
    last: bool,
}

struct Done {
    index: u64,
    out: Vec<u8>,
    crc: u32,
    plain: usize,
    last: bool,
}

/// Compresses everything `input` reads into one raw deflate stream given to `sink` in
/// order (the sink may change the bytes: it encrypts them in place). Each plain block is
/// also sent, in order, to `tap` (the SHA-256 beside it). `progress` gets the plain bytes
/// done so far.
pub(crate) fn deflate<R: Read + Send>(
    input: R,
    opts: &Options,
    tap: Option<SyncSender<Arc<Vec<u8>>>>,
    sink: &mut dyn FnMut(&mut [u8]) -> io::Result<()>,
    progress: &mut dyn FnMut(u64),
    cancel: &Cancel,
) -> Result<Summary, Failure> {
    let threads = opts.threads.max(1);
    let block = opts.block.max(1);
    let in_flight = threads * IN_FLIGHT_PER_THREAD;
    let (job_tx, job_rx) = sync_channel::<Job>(in_flight);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = sync_channel::<Result<Done, String>>(in_flight);
    // One slot per block between its read and its write: the reader waits for a free
    // one, so memory stays bounded however slow one block is to compress.
    let (slot_tx, slot_rx) = sync_channel::<()>(in_flight);
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_blocks(input, block, job_tx, tap, slot_tx, cancel));
        for _ in 0..threads {
            let (jobs, done) = (job_rx.clone(), done_tx.clone());
            let level = opts.level;
            s.spawn(move || work(&jobs, &done, level));
        }
        // Only the workers hold these now: when they end, the reader's sends fail.
        drop((job_rx, done_tx));
        let written = write_in_order(done_rx, slot_rx, sink, progress, cancel);
        let read = reader.join().expect("reading does not panic");
        match (read, written) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(None)) => Err(Failure::Deflate("the blocks ended early".into())),
            (Ok(()), Ok(Some(summary))) => Ok(summary),
        }
    })
}

/// Reads `input` until `buf` is full or the input ends; returns the bytes read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read_block(input: &mut impl Read, block: usize) -> Result<Vec<u8>, Failure> {
    let mut buf = vec![0u8; block];
    let n = fill(input, &mut buf).map_err(Failure::Read)?;
    buf.truncate(n);
    Ok(buf)
}

/// Cuts the input into blocks and hands them out; a failed send means the writer has
/// stopped (its error is the one reported), so the reader just ends.
fn read_blocks<R: Read>(
    mut input: R,
    block: usize,
    jobs: SyncSender<Job>,
    tap: Option<SyncSender<Arc<Vec<u8>>>>,
    slots: SyncSender<()>,
    cancel: &Cancel,
) -> Result<(), Failure> {
    let mut before: Option<Arc<Vec<u8>>> = None;
    let mut current = read_block(&mut input, block)?;
    for index in 0.. {
        if cancel.is_cancelled() {
            return Err(Failure::Cancelled);
        }
        // A full block may be the last one: only the next read can tell.
        let next = if current.len() == block {
            read_block(&mut input, block)?
        } else {
            Vec::new()
        };
        let last = next.is_empty();
        let data = Arc::new(current);
        if slots.send(()).is_err() {
            return Ok(());
        }
        if let Some(tap) = &tap {
            // The hasher only stops early when the caller has given up.
            let _ = tap.send(data.clone());
        }
        let job = Job {
            index,
            data: data.clone(),
            before: before.take(),
            last,
        };
        if jobs.send(job).is_err() || last {
            return Ok(());
        }
        before = Some(data);
        current = next;
    }
    Ok(())
}

fn work(jobs: &Mutex<Receiver<Job>>, done: &SyncSender<Result<Done, String>>, level: Option<u32>) {
    let mut z = level.map(|l| Compress::new(Compression::new(l), false));
    loop {
        // The lock is held only while one job is taken.
        let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = job else { return };
        let crc = crc32fast::hash(&job.data);
        let out = match &mut z {
            None => Ok(job.data.to_vec()),
            Some(z) => deflate_block(
                z,
                &job.data,
                job.before.as_deref().map(Vec::as_slice),
                job.last,
            ),
        };
        let result = out.map(|out| Done {
            index: job.index,
            out,
            crc,
            plain: job.data.len(),
            last: job.last,
        });
        let failed = result.is_err();
        if done.send(result).is_err() || failed {
            return;
        }
    }
}

/// One block as a piece of the stream: primed with the end of the block before, ended
/// by a sync flush (byte-aligned, not final) or, for the last, finished.
pub(crate) fn deflate_block(
    z: &mut Compress,
    data: &[u8],
    before: Option<&[u8]>,
    last: bool,
) -> Result<Vec<u8>, String> {
    z.reset();
    if let Some(d) = before {
        z.set_dictionary(&d[d.len().saturating_sub(WINDOW)..])
            .map_err(|e| e.to_string())?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    // Room for incompressible data (stored blocks add 5 bytes per 64 KiB) and the flush,
    // so one call nearly always does.
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 256);
    loop {
        let start = usize::try_from(z.total_in()).expect("a block fits in memory");
        let status = z
            .compress_vec(&data[start..], &mut out, flush)
            .map_err(|e| e.to_string())?;
        let all_in = usize::try_from(z.total_in()).expect("a block fits in memory") == data.len();
        match status {
            Status::StreamEnd => return Ok(out),
            // A sync flush is complete once all input is in and the output did not fill.
            _ if !last && all_in && out.len() < out.capacity() => return Ok(out),
            _ => out.reserve(out.capacity().max(4096)),
        }
    }
}

/// Writes the finished blocks in order; `Ok(None)` when the blocks stopped before the
/// last one (the reader failed or stopped, and says why).
fn write_in_order(
    done: Receiver<Result<Done, String>>,
    slots: Receiver<()>,
    sink: &mut dyn FnMut(&mut [u8]) -> io::Result<()>,
    progress: &mut dyn FnMut(u64),
    cancel: &Cancel,
) -> Result<Option<Summary>, Failure> {
    let mut waiting = BTreeMap::new();
    let mut next = 0u64;
    let mut crc = crc32fast::Hasher::new();
    let (mut plain, mut written) = (0u64, 0u64);
    while let Ok(result) = done.recv() {
        if cancel.is_cancelled() {
            return Err(Failure::Cancelled);
        }
        let d = result.map_err(Failure::Deflate)?;
        waiting.insert(d.index, d);
        while let Some(mut d) = waiting.remove(&next) {
            sink(&mut d.out).map_err(Failure::Write)?;
            crc.combine(&crc32fast::Hasher::new_with_initial_len(
                d.crc,
                d.plain as u64,
            ));
            plain += d.plain as u64;
            written += d.out.len() as u64;
            next += 1;
            // This block's slot is free for the reader.
            let _ = slots.recv();
            progress(plain);
            if d.last {
                return Ok(Some(Summary {
                    crc32: crc.finalize(),
                    plain,
                    written,
                }));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Text-like bytes that compress (and repeat across block boundaries, so a lost
    /// dictionary would show in the ratio), with a pseudo-random part that does not.
    fn sample(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_u32;
        (0..len)
            .map(|i| {
                if (i / 4096) % 5 == 4 {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                } else {
                    b"key 0042 issued to Janis Berzins, room 3.14; "[i % 45]
                }
            })
            .collect()
    }

    fn run(data: &[u8], opts: &Options) -> (Vec<u8>, Summary, Vec<u8>) {
        let mut out = Vec::new();
        let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(4);
        let (summary, tapped) = std::thread::scope(|s| {
            let tapper = s.spawn(move || {
                let mut all = Vec::new();
                for b in rx {
                    all.extend_from_slice(&b);
                }
                all
            });
            let summary = deflate(
                Cursor::new(data),
                opts,
                Some(tx),
                &mut |b| {
                    out.extend_from_slice(b);
                    Ok(())
                },
                &mut |_| {},
                &Cancel::new(),
            )
            .unwrap();
            (summary, tapper.join().unwrap())
        });
        (out, summary, tapped)
    }

    fn inflate(stream: &[u8]) -> Vec<u8> {
        let mut plain = Vec::new();
        flate2::read::DeflateDecoder::new(stream)
            .read_to_end(&mut plain)
            .unwrap();
        plain
    }

    fn opts(block: usize, threads: usize) -> Options {
        Options {
            block,
            threads,
            level: Some(1),
        }
    }

    #[test]
    fn blocks_join_into_one_stream_that_inflates_to_the_input() {
        for (len, block, threads) in [
            (0, 1024, 2),
            (1, 1024, 2),
            (1023, 1024, 2),
            (1024, 1024, 2),
            (1025, 1024, 2),
            (3 * 1024, 1024, 3),
            (10 * 1024 + 7, 1024, 4),
            (300_000, 64 * 1024, 2),
            (BLOCK * 2 + 3, BLOCK, 2),
        ] {
            let data = sample(len);
            let (stream, summary, tapped) = run(&data, &opts(block, threads));
            assert_eq!(inflate(&stream), data, "len {len} block {block}");
            assert_eq!(summary.plain, len as u64);
            assert_eq!(summary.written, stream.len() as u64);
            assert_eq!(summary.crc32, crc32fast::hash(&data), "len {len}");
            assert_eq!(tapped, data, "the tap sees every block in order");
        }
    }

    #[test]
    fn an_empty_input_is_one_empty_final_block() {
        let (stream, summary, _) = run(&[], &opts(1024, 2));
        assert_eq!(stream, [0x03, 0x00]);
        assert_eq!(summary.crc32, 0);
        assert!(inflate(&stream).is_empty());
    }

    #[test]
    fn only_the_last_block_is_final_and_every_other_ends_byte_aligned() {
        let data = sample(4 * 4096);
        let mut z = Compress::new(Compression::new(1), false);
        let first = deflate_block(&mut z, &data[..4096], None, false).unwrap();
        // A sync flush ends in an empty stored block: 00 00 ff ff, on a byte boundary.
        assert_eq!(&first[first.len() - 4..], [0, 0, 0xff, 0xff]);
        let second = deflate_block(&mut z, &data[4096..], Some(&data[..4096]), true).unwrap();
        let joined = [first.clone(), second].concat();
        assert_eq!(inflate(&joined), data);
        // The first piece alone is not a finished stream.
        let mut d = flate2::Decompress::new(false);
        let mut sink = Vec::with_capacity(8192);
        let status = d
            .decompress_vec(&first, &mut sink, flate2::FlushDecompress::None)
            .unwrap();
        assert_ne!(status, Status::StreamEnd);
    }

    #[test]
    fn a_block_primed_with_the_one_before_compresses_as_well_as_one_stream() {
        let data = sample(8 * 65536);
        let (split, _, _) = run(&data, &opts(65536, 2));
        let mut whole = Vec::new();
        let mut e = flate2::write::DeflateEncoder::new(&mut whole, Compression::new(1));
        std::io::Write::write_all(&mut e, &data).unwrap();
        e.finish().unwrap();
        // Without the dictionary each 64 KiB block would restart cold; with it the
        // pieces together are within 2% of one stream.
        assert!(
            (split.len() as f64) < whole.len() as f64 * 1.02 + 64.0,
            "split {} whole {}",
            split.len(),
            whole.len()
        );
    }

    #[test]
    fn stored_passes_the_bytes_through_with_their_crc() {
        let data = sample(5000);
        let o = Options {
            block: 1024,
            threads: 2,
            level: None,
        };
        let (out, summary, _) = run(&data, &o);
        assert_eq!(out, data);
        assert_eq!(summary.crc32, crc32fast::hash(&data));
    }

    #[test]
    fn a_cancel_stops_it_and_a_failed_write_is_reported() {
        let data = sample(64 * 1024);
        let cancel = Cancel::new();
        cancel.cancel();
        let r = deflate(
            Cursor::new(&data),
            &opts(1024, 2),
            None,
            &mut |_| Ok(()),
            &mut |_| {},
            &cancel,
        );
        assert!(matches!(r, Err(Failure::Cancelled)), "{r:?}");
        let mut calls = 0;
        let r = deflate(
            Cursor::new(&data),
            &opts(1024, 2),
            None,
            &mut |_| {
                calls += 1;
                if calls == 3 {
                    Err(io::Error::other("disk full"))
                } else {
                    Ok(())
                }
            },
            &mut |_| {},
            &Cancel::new(),
        );
        assert!(matches!(r, Err(Failure::Write(_))), "{r:?}");
        assert_eq!(calls, 3, "nothing is written after the failure");
    }

    #[test]
    fn a_read_error_is_reported_as_one() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("bad sector"));
                }
                let n = buf.len().min(self.0);
                buf[..n].fill(7);
                self.0 -= n;
                Ok(n)
            }
        }
        let r = deflate(
            Broken(5000),
            &opts(1024, 2),
            None,
            &mut |_| Ok(()),
            &mut |_| {},
            &Cancel::new(),
        );
        assert!(matches!(r, Err(Failure::Read(_))), "{r:?}");
    }
}
