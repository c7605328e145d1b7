//! Digests computed while bytes stream by: the MD5 behind every ETag and the flexible
//! checksums (`x-amz-checksum-*`) that today's SDKs send on every upload.

use base64::Engine;
use md5::{Digest, Md5};

/// The flexible checksum algorithms S3 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// Parses an algorithm name as sent in `x-amz-sdk-checksum-algorithm` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Parses a header name such as `x-amz-checksum-crc32` (case-insensitive).
    pub fn from_header_name(header: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header_name().eq_ignore_ascii_case(header.trim()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Length of the raw digest in bytes; used to reject malformed client values early.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    pub fn hasher(self) -> ChecksumHasher {
        match self {
            Self::Crc32 => ChecksumHasher::Crc32(crc32fast::Hasher::new()),
            Self::Crc32c => ChecksumHasher::Crc32c(0),
            Self::Crc64Nvme => ChecksumHasher::Crc64Nvme(!0),
            Self::Sha1 => ChecksumHasher::Sha1(sha1::Sha1::new()),
            Self::Sha256 => ChecksumHasher::Sha256(sha2::Sha256::new()),
        }
    }
}

/// A running flexible-checksum computation.
pub enum ChecksumHasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(u64),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl ChecksumHasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Crc32(h) => h.update(data),
            Self::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            Self::Crc64Nvme(crc) => *crc = crc64nvme_update(*crc, data),
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
        }
    }

    /// The big-endian digest bytes, as S3 base64-encodes them.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Self::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            Self::Crc64Nvme(crc) => (!crc).to_be_bytes().to_vec(),
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones.
const CRC64NVME_POLY: u64 = 0x9A6C_9329_AC4B_C9B5;

static CRC64NVME_TABLE: std::sync::LazyLock<[u64; 256]> = std::sync::LazyLock::new(|| {
    let mut table = [0u64; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut crc = i as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ CRC64NVME_POLY
            } else {
                crc >> 1
            };
        }
        *slot = crc;
    }
    table
});

fn crc64nvme_update(mut crc: u64, data: &[u8]) -> u64 {
    let table = &*CRC64NVME_TABLE;
    for &byte in data {
        crc = table[((crc ^ byte as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// MD5 plus, optionally, one flexible checksum, fed from one stream of bytes.
pub struct BodyDigests {
    md5: Md5,
    checksum: Option<(ChecksumAlgorithm, ChecksumHasher)>,
    /// SHA-256 of the payload, when `x-amz-content-sha256` names one to check.
    sha256: Option<sha2::Sha256>,
    len: u64,
}

/// What `BodyDigests` computed once the stream ended.
#[derive(Debug, Clone)]
pub struct FinishedDigests {
    pub md5: [u8; 16],
    pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    pub sha256: Option<[u8; 32]>,
    pub len: u64,
}

impl BodyDigests {
    pub fn new(checksum: Option<ChecksumAlgorithm>) -> Self {
        Self {
            md5: Md5::new(),
            checksum: checksum.map(|a| (a, a.hasher())),
            sha256: None,
            len: 0,
        }
    }

    /// Also computes the payload's SHA-256.
    pub fn with_sha256(mut self, wanted: bool) -> Self {
        self.sha256 = wanted.then(sha2::Sha256::new);
        self
    }

    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some((_, h)) = &mut self.checksum {
            h.update(data);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        self.len += data.len() as u64;
    }

    pub fn finish(self) -> FinishedDigests {
        FinishedDigests {
            md5: self.md5.finalize().into(),
            checksum: self.checksum.map(|(a, h)| (a, h.finish())),
            sha256: self.sha256.map(|h| h.finalize().into()),
            len: self.len,
        }
    }
}

pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(algo: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
        let mut h = algo.hasher();
        h.update(data);
        h.finish()
    }

    #[test]
    fn check_values_for_123456789() {
        let data = b"123456789";
        assert_eq!(
            hex::encode(digest(ChecksumAlgorithm::Crc32, data)),
            "cbf43926"
        );
        assert_eq!(
            hex::encode(digest(ChecksumAlgorithm::Crc32c, data)),
            "e3069283"
        );
        assert_eq!(
            hex::encode(digest(ChecksumAlgorithm::Crc64Nvme, data)),
            "ae8b14860a799888"
        );
    }

    #[test]
    fn sdk_test_vectors() {
        let b64 = |a, d: &[u8]| base64_encode(&digest(a, d));
        assert_eq!(b64(ChecksumAlgorithm::Crc32, b"hello"), "NhCmhg==");
        assert_eq!(b64(ChecksumAlgorithm::Crc32, b"hello world"), "DUoRhQ==");
        assert_eq!(b64(ChecksumAlgorithm::Crc32, b""), "AAAAAA==");
        assert_eq!(b64(ChecksumAlgorithm::Crc64Nvme, b"x"), "Lb1nAmRU5LE=");
        assert_eq!(b64(ChecksumAlgorithm::Crc64Nvme, b"xy"), "Pt1IAFO5yWM=");
        assert_eq!(
            b64(ChecksumAlgorithm::Sha256, b"x"),
            "LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE="
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let mut d = BodyDigests::new(Some(ChecksumAlgorithm::Crc64Nvme));
        d.update(b"x");
        d.update(b"y");
        let f = d.finish();
        assert_eq!(f.len, 2);
        assert_eq!(base64_encode(&f.checksum.unwrap().1), "Pt1IAFO5yWM=");
        assert_eq!(hex::encode(f.md5), hex::encode(Md5::digest(b"xy")));
    }
}
