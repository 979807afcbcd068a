//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook
//! secret, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `header` (`sha256=<hex>`) signs `body` with `secret`.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    Verifier::new(secret, header).is_some_and(|mut v| {
        v.update(body);
        v.holds()
    })
}

/// A signature checked on a body read piece by piece, so the body never
/// has to be held twice, nor read past its cap, to check it.
pub struct Verifier {
    mac: Hmac<Sha256>,
    expected: Vec<u8>,
}

impl Verifier {
    /// `None` when `header` is not of the form `sha256=<hex>`.
    pub fn new(secret: &[u8], header: &str) -> Option<Self> {
        let expected = hex::decode(header.strip_prefix("sha256=")?.trim()).ok()?;
        let mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
        Some(Self { mac, expected })
    }

    /// The next piece of the body.
    pub fn update(&mut self, piece: &[u8]) {
        self.mac.update(piece);
    }

    /// Whether the signature signs everything given, compared in constant time.
    pub fn holds(self) -> bool {
        self.mac.verify_slice(&self.expected).is_ok()
    }
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

    #[test]
    fn a_body_in_pieces_verifies_as_a_whole() {
        let body = b"{\"action\":\"completed\"}";
        let good = sign(b"s3cret", body);
        let mut v = Verifier::new(b"s3cret", &good).unwrap();
        for piece in body.chunks(5) {
            v.update(piece);
        }
        assert!(v.holds());
        let mut v = Verifier::new(b"s3cret", &good).unwrap();
        v.update(&body[..10]);
        assert!(!v.holds(), "a body cut short does not verify");
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
