//! Request bodies read with a cap: a body declared or found larger than the
//! cap is refused as soon as that is known, never buffered past it.
//!
//! What is left of a refused body is read and thrown away for a moment
//! (at most [`LINGER_BYTES`], [`LINGER`]) before the answer goes, as
//! nginx's lingering close does: most clients write their whole body
//! before they read, and a connection closed with their bytes unread is
//! reset under them, so they would see a broken connection instead of the
//! 413. A client writing for longer than that gets the reset.

use std::time::Duration;

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

/// How much of a refused body is read and thrown away, at most.
pub const LINGER_BYTES: usize = 4 * 1024 * 1024;
/// How long a refused body is read and thrown away, at most.
pub const LINGER: Duration = Duration::from_secs(1);

/// Reads what is left of a refused body and throws it away, until its end,
/// [`LINGER_BYTES`] or [`LINGER`], whichever comes first.
async fn linger(mut body: Body) {
    let drained = async {
        let mut read = 0;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                read += data.len();
                if read >= LINGER_BYTES {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drained).await;
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
    if let Some(n) = declared.filter(|n| *n > cap as u64) {
        // Declared larger than the linger would read: no use reading any.
        if n <= LINGER_BYTES as u64 {
            linger(body).await;
        }
        return Err(BodyError::TooLarge);
    }
    let mut out = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > cap {
                linger(body).await;
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// A body whose pieces are counted as they are taken.
    fn counted(pieces: usize, size: usize, taken: &Arc<AtomicUsize>) -> Body {
        let taken = taken.clone();
        Body::from_stream(futures::stream::iter((0..pieces).map(move |_| {
            taken.fetch_add(size, Ordering::SeqCst);
            Ok::<_, std::io::Error>(vec![b'x'; size])
        })))
    }

    #[tokio::test]
    async fn what_is_left_of_a_refused_body_is_thrown_away_up_to_a_bound() {
        // Declared too large: refused unkept, but read to its end, so the
        // client reads the 413 instead of a reset.
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, "2097152".parse().unwrap());
        let taken = Arc::new(AtomicUsize::new(0));
        let err = read_capped(&headers, counted(32, 65536, &taken), 5, |_| panic!("kept"))
            .await
            .unwrap_err();
        assert_eq!(err, BodyError::TooLarge);
        assert_eq!(taken.load(Ordering::SeqCst), 2 * 1024 * 1024);
        // Found too large while reading: the same.
        let taken = Arc::new(AtomicUsize::new(0));
        let err = read_capped(&HeaderMap::new(), counted(8, 1024, &taken), 1500, |_| {})
            .await
            .unwrap_err();
        assert_eq!(err, BodyError::TooLarge);
        assert_eq!(taken.load(Ordering::SeqCst), 8 * 1024);
        // A body without end: thrown away up to the bound, no further.
        let taken = Arc::new(AtomicUsize::new(0));
        read_capped(&headers, counted(usize::MAX, 65536, &taken), 5, |_| {})
            .await
            .unwrap_err();
        assert_eq!(taken.load(Ordering::SeqCst), LINGER_BYTES);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_body_that_trickles_is_given_up_after_the_linger() {
        let trickle = futures::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((Ok::<_, std::io::Error>(vec![b'x'; 10]), ()))
        });
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, "2097152".parse().unwrap());
        let start = tokio::time::Instant::now();
        read_capped(&headers, Body::from_stream(trickle), 5, |_| {})
            .await
            .unwrap_err();
        assert_eq!(start.elapsed(), LINGER);
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
