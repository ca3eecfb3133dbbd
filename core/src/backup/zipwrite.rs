//! The backup archive's zip container, written here rather than by the `zip` crate: its
//! `ZipWriter` compresses (and encrypts) what it is given itself and cannot take an
//! entry's deflate stream made elsewhere (by `pdeflate`, on every core) with AES on top.
//! Reading stays with the `zip` crate (`archive::check_archive`), which checks all of this,
//! but for the database entry's AES layer ([`Unsealed`], the reverse of the writer's).
//!
//! Plain zip as 7-Zip, Windows Explorer (unencrypted) and `unzip` open it: local headers
//! with sizes and CRC filled in once the entry is written (the file is seekable, so no
//! data descriptors), ZIP64 fields wherever a size or offset needs them (a database can
//! exceed 4 GiB), unix permissions 0600, the DOS time the caller gives, then the central
//! directory and end records.
//!
//! Encryption is WinZip AES, AE-2 for every entry (method 99, extra field 0x9901, CRC
//! field 0: the HMAC authenticates the entry, and a CRC of the plain bytes beside the
//! ciphertext would say something about them; `zip` 8 wrote AE-1, with that CRC, for
//! entries of 20 bytes or more, and the readers take both):
//! a random salt, PBKDF2-HMAC-SHA1 with 1000 rounds giving the AES key, the HMAC key and
//! a 2-byte password verifier, AES in CTR mode with a little-endian counter from 1, and
//! HMAC-SHA1 of the ciphertext cut to 10 bytes. The primitives are RustCrypto's `aes`,
//! `pbkdf2`, `hmac` and `sha1` (the versions `zip` itself uses) and `ctr`, never our own:
//! they are reviewed, constant-time and use the CPU's AES instructions; only the
//! format's framing is ours, and the `zip` crate and 7-Zip reading it back test that.
//! Never write an entry whose header does not match its bytes.

use std::io::{self, Seek, SeekFrom, Write};

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac13::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use zip::AesMode;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const ZIP64_END_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EXTRA: u16 = 0x0001;
const AES_EXTRA: u16 = 0x9901;
/// Method 99: the real method is in the AES extra field.
const METHOD_AES: u16 = 99;
/// A 32-bit field holding this says "see the ZIP64 extra field".
const U32_MAX: u32 = 0xFFFF_FFFF;
/// Made by: Unix (3), spec 6.3, so readers take the permissions from the high half of
/// the external attributes.
const MADE_BY: u16 = (3 << 8) | 63;
/// A regular file, read and write for its owner only (`S_IFREG | 0600`).
const EXTERNAL_ATTRS: u32 = 0o100_600 << 16;
const PBKDF2_ROUNDS: u32 = 1000;
const AUTH_LEN: usize = 10;

/// How an entry's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
}

impl Method {
    fn code(self) -> u16 {
        match self {
            Method::Stored => 0,
            Method::Deflated => 8,
        }
    }
}

/// One entry as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub name: String,
    pub method: Method,
    /// AES strength when encrypted.
    pub aes: Option<AesMode>,
    pub crc32: u32,
    pub compressed: u64,
    pub size: u64,
    /// Where its local header starts.
    pub offset: u64,
    pub time: u16,
    pub date: u16,
}

fn needs64(v: u64) -> bool {
    v >= u64::from(U32_MAX)
}

/// A 32-bit field: the value, or the ZIP64 marker when it does not fit.
fn field32(v: u64) -> u32 {
    u32::try_from(v)
        .ok()
        .filter(|&v| v != U32_MAX)
        .unwrap_or(U32_MAX)
}

fn strength(mode: AesMode) -> (u8, usize) {
    match mode {
        AesMode::Aes128 => (1, 16),
        AesMode::Aes192 => (2, 24),
        AesMode::Aes256 => (3, 32),
    }
}

impl Header {
    fn zip64_in_central(&self) -> bool {
        needs64(self.size) || needs64(self.compressed) || needs64(self.offset)
    }

    fn version_needed(&self, zip64: bool) -> u16 {
        let mut v = match self.method {
            Method::Stored => 10,
            Method::Deflated => 20,
        };
        if zip64 {
            v = v.max(45);
        }
        if self.aes.is_some() {
            v = v.max(51);
        }
        v
    }

    fn flags(&self) -> u16 {
        // Bit 0: encrypted.
        u16::from(self.aes.is_some())
    }

    fn method_code(&self) -> u16 {
        if self.aes.is_some() {
            METHOD_AES
        } else {
            self.method.code()
        }
    }

    /// The CRC field: 0 for AE-2, whose HMAC replaces it.
    fn crc_field(&self) -> u32 {
        if self.aes.is_some() {
            0
        } else {
            self.crc32
        }
    }

    fn aes_extra(&self) -> Vec<u8> {
        let Some(mode) = self.aes else {
            return Vec::new();
        };
        let mut e = Vec::with_capacity(11);
        put16(&mut e, AES_EXTRA);
        put16(&mut e, 7);
        put16(&mut e, 2); // AE-2
        e.extend_from_slice(b"AE");
        e.push(strength(mode).0);
        put16(&mut e, self.method.code());
        e
    }

    /// The local header. With `zip64` both sizes live in a ZIP64 extra field (their
    /// 32-bit fields say so), as they must whenever either may not fit: which is decided
    /// before the entry is written, from its size, and kept when the header is filled in.
    pub fn local(&self, zip64: bool) -> Vec<u8> {
        let mut extra = Vec::new();
        if zip64 {
            put16(&mut extra, ZIP64_EXTRA);
            put16(&mut extra, 16);
            put64(&mut extra, self.size);
            put64(&mut extra, self.compressed);
        }
        extra.extend(self.aes_extra());
        let mut h = Vec::with_capacity(30 + self.name.len() + extra.len());
        put32(&mut h, LOCAL_SIG);
        put16(&mut h, self.version_needed(zip64));
        put16(&mut h, self.flags());
        put16(&mut h, self.method_code());
        put16(&mut h, self.time);
        put16(&mut h, self.date);
        put32(&mut h, self.crc_field());
        if zip64 {
            put32(&mut h, U32_MAX);
            put32(&mut h, U32_MAX);
        } else {
            put32(&mut h, field32(self.compressed));
            put32(&mut h, field32(self.size));
        }
        put16(&mut h, len16(self.name.len()));
        put16(&mut h, len16(extra.len()));
        h.extend_from_slice(self.name.as_bytes());
        h.extend(extra);
        h
    }

    /// The central directory record: a ZIP64 extra field with exactly the values that do
    /// not fit in 32 bits, in the order the format fixes (size, compressed, offset).
    pub fn central(&self) -> Vec<u8> {
        let mut z = Vec::new();
        for v in [self.size, self.compressed, self.offset] {
            if needs64(v) {
                put64(&mut z, v);
            }
        }
        let mut extra = Vec::new();
        if !z.is_empty() {
            put16(&mut extra, ZIP64_EXTRA);
            put16(&mut extra, len16(z.len()));
            extra.extend(z);
        }
        extra.extend(self.aes_extra());
        let mut h = Vec::with_capacity(46 + self.name.len() + extra.len());
        put32(&mut h, CENTRAL_SIG);
        put16(&mut h, MADE_BY);
        put16(&mut h, self.version_needed(self.zip64_in_central()));
        put16(&mut h, self.flags());
        put16(&mut h, self.method_code());
        put16(&mut h, self.time);
        put16(&mut h, self.date);
        put32(&mut h, self.crc_field());
        put32(&mut h, field32(self.compressed));
        put32(&mut h, field32(self.size));
        put16(&mut h, len16(self.name.len()));
        put16(&mut h, len16(extra.len()));
        put16(&mut h, 0); // comment
        put16(&mut h, 0); // disk
        put16(&mut h, 0); // internal attributes
        put32(&mut h, EXTERNAL_ATTRS);
        put32(&mut h, field32(self.offset));
        h.extend_from_slice(self.name.as_bytes());
        h.extend(extra);
        h
    }
}

/// The end of the archive after a central directory of `entries` records, `size` bytes
/// at `offset`: ZIP64 end record and locator first when a count, size or offset does
/// not fit the classic record (whose fields then say so).
pub(crate) fn end_records(entries: u64, offset: u64, size: u64) -> Vec<u8> {
    let mut e = Vec::new();
    let zip64 = entries >= 0xFFFF || needs64(offset) || needs64(size);
    if zip64 {
        let record_at = offset + size;
        put32(&mut e, ZIP64_END_SIG);
        put64(&mut e, 44); // the record's size after this field
        put16(&mut e, MADE_BY);
        put16(&mut e, 45);
        put32(&mut e, 0); // this disk
        put32(&mut e, 0); // the directory's disk
        put64(&mut e, entries);
        put64(&mut e, entries);
        put64(&mut e, size);
        put64(&mut e, offset);
        put32(&mut e, ZIP64_LOCATOR_SIG);
        put32(&mut e, 0);
        put64(&mut e, record_at);
        put32(&mut e, 1); // disks
    }
    let count = u16::try_from(entries).unwrap_or(0xFFFF);
    put32(&mut e, END_SIG);
    put16(&mut e, 0);
    put16(&mut e, 0);
    put16(&mut e, count);
    put16(&mut e, count);
    put32(&mut e, field32(size));
    put32(&mut e, field32(offset));
    put16(&mut e, 0); // comment
    e
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn len16(n: usize) -> u16 {
    u16::try_from(n).expect("names and extra fields here are short")
}

/// AES-CTR of each strength, with the little-endian counter WinZip uses.
enum Ctr {
    A128(ctr::Ctr128LE<aes::Aes128>),
    A192(ctr::Ctr128LE<aes::Aes192>),
    A256(ctr::Ctr128LE<aes::Aes256>),
}

impl Ctr {
    fn new(mode: AesMode, key: &[u8]) -> Ctr {
        // The counter block starts at 1 (little-endian), with no nonce: the salt makes
        // every entry's key its own.
        let mut iv = [0u8; 16];
        iv[0] = 1;
        let bad = "the key is as long as the strength says";
        match mode {
            AesMode::Aes128 => Ctr::A128(ctr::Ctr128LE::new_from_slices(key, &iv).expect(bad)),
            AesMode::Aes192 => Ctr::A192(ctr::Ctr128LE::new_from_slices(key, &iv).expect(bad)),
            AesMode::Aes256 => Ctr::A256(ctr::Ctr128LE::new_from_slices(key, &iv).expect(bad)),
        }
    }

    fn apply(&mut self, buf: &mut [u8]) {
        match self {
            Ctr::A128(c) => c.apply_keystream(buf),
            Ctr::A192(c) => c.apply_keystream(buf),
            Ctr::A256(c) => c.apply_keystream(buf),
        }
    }
}

/// An entry's encryption: the keystream and the HMAC of what it produced.
struct Sealer {
    ctr: Ctr,
    mac: Hmac<Sha1>,
}

/// The keys of an entry with this salt: its keystream and HMAC, and the 2-byte password
/// verifier stored after the salt.
fn derive(passphrase: &str, mode: AesMode, salt: &[u8]) -> (Sealer, [u8; 2]) {
    let key_len = strength(mode).1;
    let mut derived = vec![0u8; 2 * key_len + 2];
    pbkdf2::pbkdf2_hmac::<Sha1>(passphrase.as_bytes(), salt, PBKDF2_ROUNDS, &mut derived);
    let ctr = Ctr::new(mode, &derived[..key_len]);
    let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&derived[key_len..2 * key_len])
        .expect("HMAC takes a key of any length");
    let verifier = [derived[2 * key_len], derived[2 * key_len + 1]];
    derived.fill(0);
    (Sealer { ctr, mac }, verifier)
}

/// Derives the keys for a fresh salt from the OS; returns the sealer and the bytes that
/// open the entry's data (salt, then the password verifier).
fn seal(passphrase: &str, mode: AesMode) -> io::Result<(Sealer, Vec<u8>)> {
    let mut head = vec![0u8; strength(mode).1 / 2];
    getrandom::fill(&mut head).map_err(|e| io::Error::other(e.to_string()))?;
    let (sealer, verifier) = derive(passphrase, mode, &head);
    head.extend_from_slice(&verifier);
    Ok((sealer, head))
}

/// The strength byte of a WinZip AES extra field, as the mode it names (the reverse
/// of [`strength`], so the codes are written down once).
pub(crate) fn aes_mode(code: u8) -> Option<AesMode> {
    [AesMode::Aes128, AesMode::Aes192, AesMode::Aes256]
        .into_iter()
        .find(|&m| strength(m).0 == code)
}

/// Why an AES entry could not be opened.
#[derive(Debug)]
pub(crate) enum Unopened {
    /// The password verifier says another passphrase sealed it.
    WrongPassphrase,
    /// Shorter than a salt, a verifier and an authentication code.
    Truncated,
    Io(io::Error),
}

/// An entry's data as stored with WinZip AES (salt, password verifier, ciphertext, the
/// 10-byte authentication code), read as the plain (compressed) bytes.
///
/// The same primitives as the writer, on whole buffers: the `zip` crate's own reader
/// runs AES one 16-byte block at a time, and reading a backup back took about a second
/// longer per 450 MB encrypted than plain. The `zip` crate still opens every other entry
/// of the archive (the manifest first, with the same keys' derivation), and the archive
/// tests open the whole archive with it and with 7-Zip. [`Unsealed::finish`] checks the
/// authentication code: call it after reading, or nothing is authenticated.
pub(crate) struct Unsealed<R: io::Read> {
    raw: R,
    /// Ciphertext not read yet.
    left: u64,
    sealer: Sealer,
}

impl<R: io::Read> Unsealed<R> {
    /// Opens `raw`, the `len` bytes of an entry's stored data.
    pub fn open(mut raw: R, len: u64, passphrase: &str, mode: AesMode) -> Result<Self, Unopened> {
        let salt_len = strength(mode).1 / 2;
        let framing = (salt_len + 2 + AUTH_LEN) as u64;
        let Some(left) = len.checked_sub(framing) else {
            return Err(Unopened::Truncated);
        };
        let mut head = vec![0u8; salt_len + 2];
        raw.read_exact(&mut head).map_err(Unopened::Io)?;
        let (sealer, verifier) = derive(passphrase, mode, &head[..salt_len]);
        if head[salt_len..] != verifier {
            return Err(Unopened::WrongPassphrase);
        }
        Ok(Unsealed { raw, left, sealer })
    }

    /// Reads what is left of the ciphertext (a deflate stream ends before its entry
    /// does only if something was added), then the authentication code, and checks it.
    pub fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        let mut code = [0u8; AUTH_LEN];
        self.raw.read_exact(&mut code)?;
        self.sealer.mac.verify_truncated_left(&code).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the authentication code does not match: the data was changed, or damaged",
            )
        })
    }
}

impl<R: io::Read> io::Read for Unsealed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.raw.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let got = &mut buf[..n];
        self.sealer.mac.update(got);
        self.sealer.ctr.apply(got);
        self.left -= n as u64;
        Ok(n)
    }
}

/// A zip archive being written to `W`.
pub(crate) struct ZipOut<W: Write + Seek> {
    out: W,
    pos: u64,
    time: u16,
    date: u16,
    entries: Vec<Header>,
}

/// An entry being written: its (compressed) bytes go in through [`EntryWriter::write`].
pub(crate) struct EntryWriter<'z, W: Write + Seek> {
    zip: &'z mut ZipOut<W>,
    header: Header,
    zip64: bool,
    sealer: Option<Sealer>,
}

impl<W: Write + Seek> ZipOut<W> {
    /// Entries get `modified` as their DOS time.
    pub fn new(mut out: W, modified: zip::DateTime) -> io::Result<ZipOut<W>> {
        let pos = out.stream_position()?;
        Ok(ZipOut {
            out,
            pos,
            time: modified.timepart(),
            date: modified.datepart(),
            entries: Vec::new(),
        })
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Starts an entry of about `size` plain bytes (used to decide whether its local
    /// header needs ZIP64 room); encrypted when `aes` is given.
    pub fn start(
        &mut self,
        name: &str,
        method: Method,
        size: u64,
        aes: Option<(&str, AesMode)>,
    ) -> io::Result<EntryWriter<'_, W>> {
        let header = Header {
            name: name.to_string(),
            method,
            aes: aes.map(|(_, m)| m),
            crc32: 0,
            compressed: 0,
            size: 0,
            offset: self.pos,
            time: self.time,
            date: self.date,
        };
        // Deflate at its worst (stored blocks, a flush per block) and the AES framing add
        // far less than this.
        let zip64 = needs64(size.saturating_add(size / 64).saturating_add(1 << 20));
        self.put(&header.local(zip64))?;
        let sealer = match aes {
            Some((pass, mode)) => {
                let (sealer, head) = seal(pass, mode)?;
                self.put(&head)?;
                Some(sealer)
            }
            None => None,
        };
        Ok(EntryWriter {
            zip: self,
            header,
            zip64,
            sealer,
        })
    }

    /// A whole small entry at once: deflated (level 1) or stored, encrypted with `aes`.
    pub fn add(
        &mut self,
        name: &str,
        data: &[u8],
        method: Method,
        aes: Option<(&str, AesMode)>,
    ) -> io::Result<()> {
        let mut bytes = match method {
            Method::Stored => data.to_vec(),
            Method::Deflated => {
                let mut e = flate2::write::DeflateEncoder::new(
                    Vec::with_capacity(data.len() / 2 + 64),
                    flate2::Compression::new(1),
                );
                e.write_all(data)?;
                e.finish()?
            }
        };
        let mut entry = self.start(name, method, data.len() as u64, aes)?;
        entry.write(&mut bytes)?;
        entry.finish(crc32fast::hash(data), data.len() as u64)
    }

    /// Writes the central directory and the end records; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let offset = self.pos;
        let central: Vec<u8> = self.entries.iter().flat_map(|h| h.central()).collect();
        self.put(&central)?;
        let end = end_records(self.entries.len() as u64, offset, central.len() as u64);
        self.put(&end)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write + Seek> EntryWriter<'_, W> {
    /// Appends the entry's stored or deflated bytes (encrypting them in place first
    /// when the entry is encrypted).
    pub fn write(&mut self, bytes: &mut [u8]) -> io::Result<()> {
        if let Some(s) = &mut self.sealer {
            s.ctr.apply(bytes);
            s.mac.update(bytes);
        }
        self.zip.put(bytes)
    }

    /// Ends the entry whose plain bytes had this CRC-32 and size: the authentication
    /// code, then the sizes and CRC filled into the local header.
    pub fn finish(mut self, crc32: u32, size: u64) -> io::Result<()> {
        if let Some(s) = self.sealer.take() {
            let code = s.mac.finalize().into_bytes();
            self.zip.put(&code[..AUTH_LEN])?;
        }
        let h = &mut self.header;
        let data_at = h.offset + h.local(self.zip64).len() as u64;
        h.crc32 = crc32;
        h.size = size;
        h.compressed = self.zip.pos - data_at;
        if !self.zip64 && (needs64(h.size) || needs64(h.compressed)) {
            // Cannot happen for the sizes `start` was told; refuse rather than lie.
            return Err(io::Error::other(format!(
                "{} grew past what its header has room for",
                h.name
            )));
        }
        let end = self.zip.pos;
        self.zip.out.seek(SeekFrom::Start(h.offset))?;
        self.zip.out.write_all(&h.local(self.zip64))?;
        self.zip.out.seek(SeekFrom::Start(end))?;
        self.zip.entries.push(self.header);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    fn header(size: u64, compressed: u64, offset: u64) -> Header {
        Header {
            name: "database.db".into(),
            method: Method::Deflated,
            aes: None,
            crc32: 0x1234_5678,
            compressed,
            size,
            offset,
            time: 0,
            date: 0x21,
        }
    }

    fn archive(aes: Option<(&str, AesMode)>, method: Method, big_hint: bool) -> Vec<u8> {
        let time = zip::DateTime::from_date_and_time(2026, 12, 7, 1, 2, 4).unwrap();
        let mut zip = ZipOut::new(Cursor::new(Vec::new()), time).unwrap();
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7000) as u8)
            .collect();
        let hint = if big_hint { 5 << 30 } else { data.len() as u64 };
        let stream = match method {
            Method::Stored => data.clone(),
            Method::Deflated => {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(1));
                e.write_all(&data).unwrap();
                e.finish().unwrap()
            }
        };
        let mut e = zip.start("database.db", method, hint, aes).unwrap();
        for chunk in stream.chunks(70_000) {
            e.write(&mut chunk.to_vec()).unwrap();
        }
        e.finish(crc32fast::hash(&data), data.len() as u64).unwrap();
        zip.add("config.json", b"{\"site\":\"HQ\"}", Method::Deflated, aes)
            .unwrap();
        zip.add("manifest.json", b"", Method::Deflated, aes)
            .unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn read_all(
        bytes: &[u8],
        pass: Option<&str>,
    ) -> zip::result::ZipResult<Vec<(String, Vec<u8>)>> {
        let mut z = zip::ZipArchive::new(Cursor::new(bytes))?;
        let mut out = Vec::new();
        for i in 0..z.len() {
            let mut f = match pass {
                Some(p) => z.by_index_decrypt(i, p.as_bytes())?,
                None => z.by_index(i)?,
            };
            assert_eq!(f.unix_mode(), Some(0o100_600), "{}", f.name());
            assert_eq!(
                f.last_modified()
                    .map(|t| (t.year(), t.month(), t.day(), t.hour(), t.minute())),
                Some((2026, 12, 7, 1, 2))
            );
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            out.push((f.name().to_string(), buf));
        }
        Ok(out)
    }

    #[test]
    fn the_zip_crate_reads_back_plain_and_stored_entries_with_their_crc() {
        for (method, big) in [
            (Method::Stored, false),
            (Method::Stored, true),
            (Method::Deflated, false),
            (Method::Deflated, true),
        ] {
            let bytes = archive(None, method, big);
            let entries = read_all(&bytes, None).unwrap();
            assert_eq!(entries.len(), 3);
            assert_eq!(entries[0].1.len(), 300_000);
            assert_eq!(
                entries[1],
                ("config.json".into(), b"{\"site\":\"HQ\"}".to_vec())
            );
            assert!(entries[2].1.is_empty());
        }
        // A flipped byte in the data is caught by the CRC.
        let mut bytes = archive(None, Method::Stored, false);
        bytes[200] ^= 1;
        assert!(read_all(&bytes, None).is_err());
    }

    #[test]
    fn the_zip_crate_opens_aes_entries_with_the_passphrase_only() {
        for (mode, method) in [
            (AesMode::Aes128, Method::Stored),
            (AesMode::Aes192, Method::Deflated),
            (AesMode::Aes256, Method::Deflated),
        ] {
            let bytes = archive(Some(("correct horse battery", mode)), method, true);
            let entries = read_all(&bytes, Some("correct horse battery")).unwrap();
            assert_eq!(entries[1].1, b"{\"site\":\"HQ\"}");
            assert_eq!(entries[0].1.len(), 300_000);
            let wrong = read_all(&bytes, Some("wrong horse battery"));
            assert!(
                matches!(wrong, Err(zip::result::ZipError::InvalidPassword)),
                "{wrong:?}"
            );
            // Without a passphrase the entries do not open.
            assert!(read_all(&bytes, None).is_err());
        }
    }

    #[test]
    fn a_changed_byte_in_an_aes_entry_fails_its_authentication() {
        let bytes = archive(
            Some(("correct horse battery", AesMode::Aes256)),
            Method::Stored,
            false,
        );
        let mut changed = bytes.clone();
        // Inside the first entry's ciphertext (after header and salt).
        changed[5000] ^= 0x40;
        assert!(read_all(&changed, Some("correct horse battery")).is_err());
        assert!(read_all(&bytes, Some("correct horse battery")).is_ok());
    }

    /// The database entry's stored data and its AES strength, as `archive` wrote it.
    fn raw_database(bytes: &[u8]) -> (Vec<u8>, AesMode) {
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut f = z.by_index_raw(0).unwrap();
        let extra = f.extra_data().unwrap().to_vec();
        let at = extra.windows(2).position(|w| w == [0x01, 0x99]).unwrap();
        let mode = aes_mode(extra[at + 8]).unwrap();
        let mut raw = Vec::new();
        f.read_to_end(&mut raw).unwrap();
        (raw, mode)
    }

    /// Reads a whole AES entry with [`Unsealed`], inflating when `deflated`.
    fn unseal_all(raw: &[u8], pass: &str, mode: AesMode, deflated: bool) -> io::Result<Vec<u8>> {
        let u = Unsealed::open(raw, raw.len() as u64, pass, mode).map_err(|e| match e {
            Unopened::Io(e) => e,
            other => io::Error::other(format!("{other:?}")),
        })?;
        let mut out = Vec::new();
        if deflated {
            let mut d = flate2::read::DeflateDecoder::new(u);
            d.read_to_end(&mut out)?;
            d.into_inner().finish()?;
        } else {
            let mut u = u;
            u.read_to_end(&mut out)?;
            u.finish()?;
        }
        Ok(out)
    }

    #[test]
    fn our_aes_reader_opens_what_the_writer_sealed_and_refuses_any_change() {
        let pass = "correct horse battery";
        let expected: Vec<u8> = (0..300_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7000) as u8)
            .collect();
        for (mode, method) in [
            (AesMode::Aes128, Method::Stored),
            (AesMode::Aes192, Method::Deflated),
            (AesMode::Aes256, Method::Deflated),
        ] {
            let deflated = method == Method::Deflated;
            let (raw, found) = raw_database(&archive(Some((pass, mode)), method, false));
            assert_eq!(found, mode);
            assert_eq!(unseal_all(&raw, pass, mode, deflated).unwrap(), expected);

            let wrong = Unsealed::open(&raw[..], raw.len() as u64, "wrong horse", mode);
            assert!(matches!(wrong, Err(Unopened::WrongPassphrase)));
            let short = Unsealed::open(&raw[..12], 12, pass, mode);
            assert!(matches!(short, Err(Unopened::Truncated)));
            // A bit changed anywhere after the salt and verifier: in the ciphertext, in
            // its last byte, or in the authentication code.
            let salt_and_verifier = strength(mode).1 / 2 + 2;
            for at in [
                salt_and_verifier,
                raw.len() / 2,
                raw.len() - AUTH_LEN - 1,
                raw.len() - 1,
            ] {
                let mut changed = raw.clone();
                changed[at] ^= 0x08;
                assert!(
                    unseal_all(&changed, pass, mode, deflated).is_err(),
                    "{mode:?} {method:?}: a change at {at} of {} went through",
                    raw.len()
                );
            }
            // Cut short: the authentication code cannot be read.
            let cut = &raw[..raw.len() - 4];
            let u = Unsealed::open(cut, raw.len() as u64, pass, mode).unwrap();
            let mut sink = Vec::new();
            let mut u = u;
            let read = u.read_to_end(&mut sink).and_then(|_| u.finish());
            assert!(read.is_err());
        }
    }

    #[test]
    fn aes_entries_are_ae2_with_the_real_method_inside() {
        let h = Header {
            aes: Some(AesMode::Aes256),
            ..header(100, 80, 0)
        };
        let l = h.local(false);
        assert_eq!(u16_at(&l, 6), 1, "encrypted flag");
        assert_eq!(u16_at(&l, 8), 99);
        assert_eq!(u32_at(&l, 14), 0, "AE-2 leaves the CRC out");
        let extra = &l[30 + h.name.len()..];
        assert_eq!(extra, [0x01, 0x99, 7, 0, 2, 0, b'A', b'E', 3, 8, 0]);
    }

    #[test]
    fn zip64_fields_appear_exactly_where_a_value_does_not_fit() {
        // Small: no ZIP64 anywhere.
        let small = header(1000, 500, 0);
        let c = small.central();
        assert_eq!(u16_at(&c, 30), 0, "no extra field");
        assert_eq!(u16_at(&c, 6), 20);
        assert_eq!(u32_at(&c, 20), 500);
        assert_eq!(u32_at(&c, 24), 1000);
        assert_eq!(u32_at(&c, 38), 0o100_600 << 16);
        assert_eq!(u16_at(&c, 4) >> 8, 3, "made on Unix");

        // A 5 GiB database that deflates to 3 GiB, at offset 0: only the size.
        let big = header(5 << 30, 3 << 30, 0);
        let c = big.central();
        assert_eq!(u32_at(&c, 24), U32_MAX);
        assert_eq!(u32_at(&c, 20), 3 << 30);
        assert_eq!(u16_at(&c, 6), 45);
        let extra = &c[46 + big.name.len()..];
        assert_eq!((u16_at(extra, 0), u16_at(extra, 2)), (1, 8));
        assert_eq!(u64_at(extra, 4), 5 << 30);

        // An entry after it starts past 4 GiB: only the offset.
        let after = header(1000, 500, (3 << 30) + (2 << 30));
        let c = after.central();
        assert_eq!(u32_at(&c, 42), U32_MAX);
        let extra = &c[46 + after.name.len()..];
        assert_eq!((u16_at(extra, 0), u16_at(extra, 2)), (1, 8));
        assert_eq!(u64_at(extra, 4), 5 << 30);

        // All three, in the format's order: size, compressed, offset.
        let all = header(6 << 30, 5 << 30, 7 << 30);
        let extra = &all.central()[46 + all.name.len()..];
        assert_eq!(u16_at(extra, 2), 24);
        assert_eq!(
            [u64_at(extra, 4), u64_at(extra, 12), u64_at(extra, 20)],
            [6 << 30, 5 << 30, 7 << 30]
        );
        // Exactly 0xFFFFFFFF is the marker itself, so it too goes to ZIP64.
        let edge = header(u64::from(U32_MAX), 10, 0);
        assert_eq!(u16_at(&edge.central(), 30), 12);

        // The local header of a large entry holds both sizes in its ZIP64 field.
        let l = big.local(true);
        assert_eq!((u32_at(&l, 18), u32_at(&l, 22)), (U32_MAX, U32_MAX));
        let extra = &l[30 + big.name.len()..];
        assert_eq!((u16_at(extra, 0), u16_at(extra, 2)), (1, 16));
        assert_eq!((u64_at(extra, 4), u64_at(extra, 12)), (5 << 30, 3 << 30));
    }

    #[test]
    fn end_records_go_zip64_when_the_directory_lies_past_4_gib() {
        let plain = end_records(3, 1000, 200);
        assert_eq!(plain.len(), 22);
        assert_eq!(u32_at(&plain, 0), END_SIG);
        assert_eq!(u32_at(&plain, 16), 1000);

        let far = end_records(3, 5 << 30, 200);
        assert_eq!(far.len(), 56 + 20 + 22);
        assert_eq!(u32_at(&far, 0), ZIP64_END_SIG);
        assert_eq!(u64_at(&far, 24), 3);
        assert_eq!(u64_at(&far, 40), 200);
        assert_eq!(u64_at(&far, 48), 5 << 30);
        assert_eq!(u32_at(&far, 56), ZIP64_LOCATOR_SIG);
        assert_eq!(
            u64_at(&far, 64),
            (5 << 30) + 200,
            "where the ZIP64 record is"
        );
        let end = &far[76..];
        assert_eq!(u32_at(end, 0), END_SIG);
        assert_eq!(u16_at(end, 10), 3);
        assert_eq!(u32_at(end, 16), U32_MAX);
    }

    /// The program `names` finds first on PATH (TEST_PKGS in scripts/deps.sh installs them).
    #[cfg(target_os = "linux")]
    fn tool(names: &[&str]) -> std::path::PathBuf {
        let path = std::env::var_os("PATH").unwrap_or_default();
        names
            .iter()
            .find_map(|n| {
                std::env::split_paths(&path)
                    .map(|d| d.join(n))
                    .find(|p| p.is_file())
            })
            .unwrap_or_else(|| panic!("{names:?} not installed (TEST_PKGS in scripts/deps.sh)"))
    }

    /// Runs `program ARGS`; returns whether it succeeded, and what it said.
    #[cfg(target_os = "linux")]
    fn check_with(program: &std::path::Path, args: &[String]) -> (bool, String) {
        let out = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    /// The bytes of entry `name` of the archive at `path` as the zip crate reads them back
    /// (checking the CRC, or with `pass` the AES authentication, as it reads).
    #[cfg(target_os = "linux")]
    fn read_back(path: &std::path::Path, name: &str, pass: Option<&str>) -> Vec<u8> {
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut entry = match pass {
            Some(p) => z.by_name_decrypt(name, p.as_bytes()).unwrap(),
            None => z.by_name(name).unwrap(),
        };
        let mut back = Vec::new();
        entry.read_to_end(&mut back).unwrap();
        back
    }

    /// Every ZIP64 field, read by `unzip` and 7-Zip, with no 4 GiB written: the first
    /// entry is 4.5 GiB of zeros left as a hole in a sparse file (its CRC combined from a
    /// 1 MiB one), so its sizes, the offsets after it and the central directory all need
    /// ZIP64; the readers test the entries after it.
    #[cfg(target_os = "linux")]
    #[test]
    fn unzip_and_7zip_read_zip64_sizes_offsets_and_end_records() {
        let dir = tempfile::tempdir().unwrap();
        let seven = tool(&["7zz", "7z"]);
        let unzip = tool(&["unzip"]);
        let time = zip::DateTime::from_date_and_time(2026, 12, 7, 1, 2, 4).unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 97) as u8).collect();

        let path = dir.path().join("far.zip");
        let f = std::fs::File::create(&path).unwrap();
        let mut zip = ZipOut::new(io::BufWriter::new(f), time).unwrap();
        let (mib, zeros) = (1u64 << 20, 9u64 << 29);
        let mut crc = crc32fast::Hasher::new();
        let mib_crc = crc32fast::hash(&vec![0u8; 1 << 20]);
        for _ in 0..zeros / mib {
            crc.combine(&crc32fast::Hasher::new_with_initial_len(mib_crc, mib));
        }
        let e = zip.start("zeros.db", Method::Stored, zeros, None).unwrap();
        e.zip.out.seek(SeekFrom::Current(zeros as i64)).unwrap();
        e.zip.pos += zeros;
        e.finish(crc.finalize(), zeros).unwrap();
        zip.add("database.db", &data, Method::Deflated, None)
            .unwrap();
        zip.add("config.json", b"{}", Method::Deflated, None)
            .unwrap();
        zip.finish()
            .unwrap()
            .into_inner()
            .unwrap()
            .sync_all()
            .unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > zeros);

        // Testing the entries past 4 GiB reads the whole directory, ZIP64 and all;
        // the zeros themselves are only listed (reading 4.5 GiB would take minutes).
        let small = ["database.db".to_string(), "config.json".to_string()];
        let args = [
            vec!["t".to_string(), path.display().to_string()],
            small.to_vec(),
        ]
        .concat();
        let (ok, text) = check_with(&seven, &args);
        assert!(
            ok && text.contains("Everything is Ok") && text.contains("Files: 2"),
            "7z: {text}"
        );
        let args = [
            vec!["-t".to_string(), path.display().to_string()],
            small.to_vec(),
        ]
        .concat();
        let (ok, text) = check_with(&unzip, &args);
        assert!(ok && text.contains("No errors"), "unzip: {text}");
        let (ok, text) = check_with(&unzip, &["-l".into(), path.display().to_string()]);
        assert!(
            ok && text.contains(&format!("{zeros}  ")),
            "unzip -l: {text}"
        );
        let mut z = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(z.by_name("zeros.db").unwrap().size(), zeros);
        assert_eq!(read_back(&path, "database.db", None), data);

        // Encrypted, with the local header made for a 5 GiB database (7-Zip only:
        // Info-ZIP's unzip has no WinZip AES).
        let pass = "correct horse battery";
        let path = dir.path().join("sealed.zip");
        let f = std::fs::File::create(&path).unwrap();
        let mut zip = ZipOut::new(io::BufWriter::new(f), time).unwrap();
        let mut bytes = {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(1));
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        let aes = Some((pass, AesMode::Aes256));
        let mut e = zip
            .start("database.db", Method::Deflated, 5 << 30, aes)
            .unwrap();
        e.write(&mut bytes).unwrap();
        e.finish(crc32fast::hash(&data), data.len() as u64).unwrap();
        zip.add("config.json", b"{}", Method::Deflated, aes)
            .unwrap();
        zip.finish()
            .unwrap()
            .into_inner()
            .unwrap()
            .sync_all()
            .unwrap();
        let (ok, text) = check_with(
            &seven,
            &["t".into(), format!("-p{pass}"), path.display().to_string()],
        );
        assert!(ok && text.contains("Everything is Ok"), "7z -p: {text}");
        let (ok, text) = check_with(
            &seven,
            &[
                "t".into(),
                "-pwrong horse battery".into(),
                path.display().to_string(),
            ],
        );
        assert!(!ok, "7z accepted a wrong passphrase: {text}");
        assert_eq!(read_back(&path, "database.db", Some(pass)), data);
    }

    #[test]
    fn the_sizes_a_header_was_not_made_for_are_refused() {
        let time = zip::DateTime::default();
        let mut zip = ZipOut::new(Cursor::new(Vec::new()), time).unwrap();
        let e = zip.start("x", Method::Stored, 10, None).unwrap();
        // Claiming 5 GiB of plain bytes for an entry whose header has no ZIP64 room.
        assert!(e.finish(0, 5 << 30).is_err());
    }
}
