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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// A signature verifies its own body and secret, and nothing else.
        #[test]
        fn a_signature_fits_one_body_and_secret(
            secret in prop::collection::vec(any::<u8>(), 1..64),
            body in prop::collection::vec(any::<u8>(), 0..512),
            other in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let header = sign(&secret, &body);
            prop_assert!(verify(&secret, &body, &header));
            if other != body {
                prop_assert!(!verify(&secret, &other, &header));
            }
            let mut wrong = secret.clone();
            wrong[0] ^= 1;
            prop_assert!(!verify(&wrong, &body, &header));
        }

        /// Arbitrary headers never verify (and never panic).
        #[test]
        fn arbitrary_headers_never_verify(header in "\\PC{0,100}", body in "\\PC{0,100}") {
            prop_assert!(!verify(b"s3cret", body.as_bytes(), &header));
        }
    }
}
