//! Request bodies read with a cap: a body declared or found larger than the
//! cap is refused as soon as that is known, never buffered past it.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the cap (by its `Content-Length`, or once read so far).
    TooLarge,
    /// The client broke off, or sent something that is not a body.
    Unreadable,
}

/// Reads `body` whole, at most `cap` bytes, handing each piece to `each`
/// as it arrives.
pub async fn read_capped(
    headers: &HeaderMap,
    body: Body,
    cap: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<Vec<u8>, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut out = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > cap {
                return Err(BodyError::TooLarge);
            }
            each(&data);
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(pieces: &[&'static [u8]]) -> Body {
        let pieces: Vec<Result<&'static [u8], std::io::Error>> =
            pieces.iter().map(|p| Ok(*p)).collect();
        Body::from_stream(futures::stream::iter(pieces))
    }

    #[tokio::test]
    async fn a_body_within_the_cap_is_read_whole() {
        let mut seen = 0;
        let body = read_capped(&HeaderMap::new(), stream(&[b"abc", b"de"]), 5, |p| {
            seen += p.len()
        })
        .await
        .unwrap();
        assert_eq!(body, b"abcde");
        assert_eq!(seen, 5);
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused_at_the_piece_that_passes_it() {
        let mut seen = 0;
        let err = read_capped(
            &HeaderMap::new(),
            stream(&[b"abc", b"def", b"ghi"]),
            5,
            |p| seen += p.len(),
        )
        .await
        .unwrap_err();
        assert_eq!(err, BodyError::TooLarge);
        assert_eq!(seen, 3, "nothing past the cap is taken");
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, "26214400".parse().unwrap());
        let err = read_capped(&headers, stream(&[b"a"]), 5, |_| panic!("read"))
            .await
            .unwrap_err();
        assert_eq!(err, BodyError::TooLarge);
    }
}
