//! WeChat's message signatures and "safe mode" encryption (the same scheme serves the Official
//! Account and WeCom). Pure: no I/O; randomness only where a caller does not pass its own.
//!
//! - signature: hex SHA-1 of the sorted strings concatenated (`token, timestamp, nonce` for a
//!   plaintext callback; plus the `Encrypt` field for `msg_signature`);
//! - encryption: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = key[..16]; plaintext =
//!   16 random bytes + big-endian u32 length + message + receive id (AppID or CorpID), padded
//!   PKCS#7-style to 32-byte blocks (not the cipher's 16), then base64.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::services::secrets::hex;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// WeChat pads to 32 bytes although AES blocks are 16.
const PAD_BLOCK: usize = 32;

/// The EncodingAESKey's last character carries 2 unused bits that WeChat fills at random, so a
/// strict decoder would refuse valid keys.
const LENIENT_B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Why a key could not be used or a message could not be decrypted. Never a panic: the
/// input comes from the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the EncodingAESKey must be 43 base64 characters")]
    BadKey,
    #[error("the encrypted message is not valid base64")]
    BadBase64,
    #[error("the encrypted message has a wrong length")]
    BadLength,
    #[error("the decrypted message has bad padding")]
    BadPadding,
    #[error("the decrypted message is not UTF-8")]
    NotUtf8,
    #[error("the message was encrypted for another AppID/CorpID")]
    WrongReceiver,
}

/// Hex SHA-1 of the parts sorted and concatenated: WeChat's `signature` and `msg_signature`.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

/// Checks a received signature in constant time (a timing oracle would let a forger find the
/// signature byte by byte).
pub fn verify_signature(received: &str, parts: &[&str]) -> bool {
    let expected = signature(parts);
    let received = received.trim().to_ascii_lowercase();
    received.len() == expected.len()
        && received
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// One account's token, AES key and receive id (AppID for an Official Account, CorpID for WeCom).
#[derive(Clone)]
pub struct WxCrypto {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for WxCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WxCrypto")
            .field("receive_id", &self.receive_id)
            .finish_non_exhaustive()
    }
}

/// Decodes an EncodingAESKey (43 characters) into the 32-byte AES key.
pub fn decode_aes_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    let k = encoding_aes_key.trim();
    if k.len() != 43 {
        return Err(CryptoError::BadKey);
    }
    let bytes = LENIENT_B64
        .decode(format!("{k}="))
        .map_err(|_| CryptoError::BadKey)?;
    bytes.try_into().map_err(|_| CryptoError::BadKey)
}

impl WxCrypto {
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptoError> {
        Ok(Self {
            token: token.to_owned(),
            key: decode_aes_key(encoding_aes_key)?,
            receive_id: receive_id.to_owned(),
        })
    }

    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `msg_signature` over an encrypted payload.
    pub fn msg_signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        signature(&[&self.token, timestamp, nonce, encrypted])
    }

    pub fn verify_msg_signature(
        &self,
        received: &str,
        timestamp: &str,
        nonce: &str,
        encrypted: &str,
    ) -> bool {
        verify_signature(received, &[&self.token, timestamp, nonce, encrypted])
    }

    /// Encrypts with fresh random bytes.
    pub fn encrypt(&self, message: &str) -> String {
        self.encrypt_with(rand::random::<[u8; 16]>(), message)
    }

    /// Encrypts with the given 16 leading random bytes (tests pin them).
    pub fn encrypt_with(&self, random: [u8; 16], message: &str) -> String {
        let msg = message.as_bytes();
        let mut buf = Vec::with_capacity(16 + 4 + msg.len() + self.receive_id.len() + PAD_BLOCK);
        buf.extend_from_slice(&random);
        // A message over 4 GiB cannot reach here (bodies are capped at 64 KiB).
        buf.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(self.receive_id.as_bytes());
        let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
        buf.extend(std::iter::repeat_n(pad as u8, pad));
        let iv: [u8; 16] = iv_of(&self.key);
        let ct =
            Encryptor::new(&self.key.into(), &iv.into()).encrypt_padded_vec_mut::<NoPadding>(&buf);
        base64::engine::general_purpose::STANDARD.encode(ct)
    }

    /// Decrypts an `Encrypt` field (or WeCom `echostr`) and checks it was meant for this
    /// account's receive id.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptoError> {
        let ct = base64::engine::general_purpose::STANDARD
            .decode(encrypted.trim())
            .map_err(|_| CryptoError::BadBase64)?;
        if ct.is_empty() || ct.len() % 16 != 0 {
            return Err(CryptoError::BadLength);
        }
        let iv: [u8; 16] = iv_of(&self.key);
        let plain = Decryptor::new(&self.key.into(), &iv.into())
            .decrypt_padded_vec_mut::<NoPadding>(&ct)
            .map_err(|_| CryptoError::BadLength)?;
        let pad = *plain.last().ok_or(CryptoError::BadLength)? as usize;
        if !(1..=PAD_BLOCK).contains(&pad)
            || pad > plain.len()
            || plain[plain.len() - pad..]
                .iter()
                .any(|&b| b as usize != pad)
        {
            return Err(CryptoError::BadPadding);
        }
        let body = plain
            .get(16..plain.len() - pad)
            .ok_or(CryptoError::BadLength)?;
        let len_bytes: [u8; 4] = body
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(CryptoError::BadLength)?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let end = 4usize.checked_add(len).ok_or(CryptoError::BadLength)?;
        let msg = body.get(4..end).ok_or(CryptoError::BadLength)?;
        let receiver = body.get(end..).ok_or(CryptoError::BadLength)?;
        if receiver != self.receive_id.as_bytes() {
            return Err(CryptoError::WrongReceiver);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::NotUtf8)
    }
}

fn iv_of(key: &[u8; 32]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    iv
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn the_official_signature_example() {
        let s = signature(&["AAAAA", "1714037059", "486452656"]);
        assert!(s.starts_with("899cf89e") && s.ends_with("aa78"), "{s}");
        assert!(verify_signature(&s, &["486452656", "AAAAA", "1714037059"]));
        assert!(verify_signature(
            &s.to_uppercase(),
            &["AAAAA", "1714037059", "486452656"]
        ));
        assert!(!verify_signature(&s, &["AAAAA", "1714037059", "486452657"]));
        assert!(!verify_signature("", &["AAAAA", "1714037059", "486452656"]));
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_for_every_padding_length() {
        let c = WxCrypto::new("tok", KEY, "wx1234567890abcdef").unwrap();
        for n in 0..70 {
            let msg: String = "鲜".repeat(n % 5) + &"x".repeat(n);
            let e = c.encrypt(&msg);
            assert_eq!(c.decrypt(&e).unwrap(), msg);
        }
    }

    #[test]
    fn a_message_for_another_account_is_refused() {
        let a = WxCrypto::new("tok", KEY, "wxAAAA").unwrap();
        let b = WxCrypto::new("tok", KEY, "wxBBBB").unwrap();
        assert_eq!(
            b.decrypt(&a.encrypt("<xml/>")),
            Err(CryptoError::WrongReceiver)
        );
    }

    #[test]
    fn broken_ciphertexts_are_errors_not_panics() {
        let c = WxCrypto::new("tok", KEY, "wx1").unwrap();
        assert_eq!(c.decrypt("not base64!!"), Err(CryptoError::BadBase64));
        assert_eq!(c.decrypt(""), Err(CryptoError::BadLength));
        assert_eq!(c.decrypt("AAAA"), Err(CryptoError::BadLength));
        // 32 zero bytes encrypted raw: the decryption is garbage with (almost surely) bad padding.
        let garbage = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        assert!(c.decrypt(&garbage).is_err());
        // A valid ciphertext with a flipped byte never panics.
        let good = base64::engine::general_purpose::STANDARD
            .decode(c.encrypt("<xml>hello</xml>"))
            .unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            let _ = c.decrypt(&base64::engine::general_purpose::STANDARD.encode(&bad));
        }
        // A length field pointing past the end.
        let mut plain = vec![0u8; 16];
        plain.extend_from_slice(&u32::MAX.to_be_bytes());
        plain.extend_from_slice(b"wx1");
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let iv = iv_of(&c.key);
        let ct =
            Encryptor::new(&c.key.into(), &iv.into()).encrypt_padded_vec_mut::<NoPadding>(&plain);
        assert_eq!(
            c.decrypt(&base64::engine::general_purpose::STANDARD.encode(ct)),
            Err(CryptoError::BadLength)
        );
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(
            WxCrypto::new("t", "short", "x").err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            WxCrypto::new("t", &"*".repeat(43), "x").err(),
            Some(CryptoError::BadKey)
        );
        // The last character's unused bits may be anything.
        assert!(WxCrypto::new("t", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFH", "x").is_ok());
    }

    #[test]
    fn msg_signature_covers_the_ciphertext() {
        let c = WxCrypto::new("tok", KEY, "wx1").unwrap();
        let e = c.encrypt("<xml/>");
        let s = c.msg_signature("1700000000", "n1", &e);
        assert!(c.verify_msg_signature(&s, "1700000000", "n1", &e));
        assert!(!c.verify_msg_signature(&s, "1700000000", "n1", &c.encrypt("<xml/>")));
    }
}
