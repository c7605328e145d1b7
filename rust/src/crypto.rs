//! HMAC-SHA256 and SHA-256 primitives shared by request signatures (`auth`) and signed
//! aws-chunked bodies (`codec`). Comparisons run in constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares `HMAC(key, data)` with a hex signature in constant time.
pub fn signature_matches(key: &[u8], data: &[u8], provided_hex: &str) -> bool {
    let Ok(provided) = hex::decode(provided_hex.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(data);
    mac.verify_slice(&provided).is_ok()
}
