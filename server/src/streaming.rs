//! Answers written a page at a time: an export of any size is read from
//! the database one page per step and sent as it is read, so the server
//! holds one page, not the whole answer. A failure part-way ends the body
//! early (the client sees a cut transfer, never a body that looks whole).

use app::error::AppError;
use axum::body::{Body, Bytes};
use std::future::Future;
use std::sync::Arc;

/// A body made by calling `page(cursor)` until it says there is no next
/// cursor: each call gives a page's text and the cursor after it.
pub fn paged_body<C, F, Fut>(first: C, page: F) -> Body
where
    C: Send + 'static,
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(String, Option<C>), AppError>> + Send + 'static,
{
    let page = Arc::new(page);
    let stream = futures_util::stream::unfold(Some(first), move |cursor| {
        let page = page.clone();
        async move {
            let cursor = cursor?;
            match page(cursor).await {
                Ok((text, next)) => Some((Ok::<_, std::io::Error>(Bytes::from(text)), next)),
                Err(e) => {
                    tracing::error!(error = %e.message, "an export failed part-way");
                    Some((Err(std::io::Error::other(e.message)), None))
                }
            }
        }
    });
    // fused: a layer that polls again after the end (compression does)
    // gets the end again instead of a panic
    Body::from_stream(futures_util::StreamExt::fuse(stream))
}
