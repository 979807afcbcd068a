//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook
//! secret, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` (`sha256=<hex>`) signs `body` with `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The header value GitHub would send.
#[cfg(test)]
fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_documented_example() {
        // From GitHub's "Validating webhook deliveries" documentation.
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            header
        ));
    }

    #[test]
    fn refuses_wrong_secret_body_or_format() {
        let good = sign(b"s3cret", b"{}");
        assert!(verify(b"s3cret", b"{}", &good));
        assert!(!verify(b"other", b"{}", &good));
        assert!(!verify(b"s3cret", b"{ }", &good));
        assert!(!verify(
            b"s3cret",
            b"{}",
            good.trim_start_matches("sha256=")
        ));
        assert!(!verify(b"s3cret", b"{}", "sha256=zz"));
        assert!(!verify(b"s3cret", b"{}", "sha1=abc"));
        assert!(!verify(b"s3cret", b"{}", ""));
    }
}
