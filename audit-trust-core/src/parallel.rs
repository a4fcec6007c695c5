//! One bounded worker pool for the library's parallel phases (downloads, classification, index
//! lookups): scoped threads pulling items from a shared counter, results in input order, and no
//! new work once an item has failed. Network phases size it by requests in flight
//! ([`crate::http::PARALLEL_REQUESTS`]), CPU phases by cores.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every item with at most `workers` threads (at least one). Returns the results
/// in the order of `items`, or the first error; after an error no further item is started.
pub fn map_until_error<T, R, E>(
    items: &[T],
    workers: usize,
    work: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let first_error: Mutex<Option<E>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1).min(items.len()) {
            scope.spawn(|| {
                loop {
                    if lock(&first_error).is_some() {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { return };
                    match work(item) {
                        Ok(r) => lock(&results)[i] = Some(r),
                        Err(e) => {
                            lock(&first_error).get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    // Without an error every item ran, so every slot is filled.
    Ok(results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect())
}

/// [`map_until_error`] for network requests: the first item runs alone, then the rest in
/// parallel. The first request builds what every later one shares (the TLS configuration, which
/// ureq builds lazily, so workers starting together would each load the system's certificate
/// store; the host's address; a first pooled connection) once instead of once per worker.
pub fn map_requests_until_error<T, R, E>(
    items: &[T],
    workers: usize,
    work: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let Some((first, rest)) = items.split_first() else {
        return Ok(Vec::new());
    };
    let first = work(first)?;
    let mut out = Vec::with_capacity(items.len());
    out.push(first);
    out.extend(map_until_error(rest, workers, work)?);
    Ok(out)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::{map_requests_until_error, map_until_error};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn keeps_order_and_uses_every_item() {
        let items: Vec<u32> = (0..100).collect();
        let out: Result<Vec<u32>, ()> = map_until_error(&items, 4, |x| Ok(x * 2));
        assert_eq!(out, Ok((0..100).map(|x| x * 2).collect()));
        let none: Result<Vec<u32>, ()> = map_until_error(&[], 4, |x: &u32| Ok(*x));
        assert_eq!(none, Ok(vec![]));
    }

    #[test]
    fn requests_keep_order_and_the_first_runs_before_the_others() {
        let started = AtomicUsize::new(0);
        let items: Vec<u32> = (0..50).collect();
        let out: Result<Vec<u32>, ()> = map_requests_until_error(&items, 8, |x| {
            let order = started.fetch_add(1, Ordering::SeqCst);
            assert!(*x != 0 || order == 0, "the first item runs first");
            Ok(x * 2)
        });
        assert_eq!(out, Ok((0..50).map(|x| x * 2).collect()));
        let failed =
            map_requests_until_error(&items, 8, |x| if *x == 0 { Err(*x) } else { Ok(*x) });
        assert_eq!(failed, Err(0));
        assert_eq!(
            map_requests_until_error(&[], 8, |x: &u32| Ok::<_, ()>(*x)),
            Ok(vec![])
        );
    }

    #[test]
    fn stops_after_the_first_error() {
        let started = AtomicUsize::new(0);
        let items: Vec<u32> = (0..10_000).collect();
        let out = map_until_error(&items, 2, |x| {
            started.fetch_add(1, Ordering::Relaxed);
            if *x == 10 {
                Err(format!("item {x}"))
            } else {
                Ok(*x)
            }
        });
        assert_eq!(out, Err("item 10".to_owned()));
        assert!(
            started.load(Ordering::Relaxed) < 10_000,
            "work stopped early"
        );
    }
}
