//! Deterministic batching: loader fetches run inside the request's own task, started only when
//! the query executor can make no more progress. By then every resolver that is ready has queued
//! its keys, so a page of N items needs one fetch per relation, whatever N is and however busy
//! the machine is. (The stock spawner starts a fetch after a timer, and a slow or loaded process
//! splits batches when the timer fires mid-way through a page.)

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
};

use futures_util::{StreamExt, future::BoxFuture, stream::FuturesUnordered};

/// Loader fetches waiting for the request's executor to stall.
#[derive(Clone, Default)]
pub struct BatchQueue(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl BatchQueue {
    /// The spawner to give `DataLoader::new`: it queues the fetch instead of spawning it.
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        let queue = self.0.clone();
        move |job| {
            queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(job);
        }
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Runs `work` (a query execution), running queued loader fetches whenever it stalls.
pub fn drive<F: Future>(queue: BatchQueue, work: F) -> Drive<F> {
    Drive {
        queue,
        work: Box::pin(work),
        running: FuturesUnordered::new(),
    }
}

/// Future returned by [`drive`].
pub struct Drive<F: Future> {
    queue: BatchQueue,
    work: Pin<Box<F>>,
    running: FuturesUnordered<BoxFuture<'static, ()>>,
}

/// Most times in a row the executor may yield to itself before queued fetches run anyway.
const MAX_SELF_WAKES: usize = 64;

/// Forwards a wake-up and remembers that it happened.
struct FlagWaker {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

impl<F: Future> Future for Drive<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let mut self_wakes = 0;
        loop {
            let flag = Arc::new(FlagWaker {
                woken: AtomicBool::new(false),
                inner: cx.waker().clone(),
            });
            let waker = Waker::from(flag.clone());
            if let Poll::Ready(out) = this.work.as_mut().poll(&mut Context::from_waker(&waker)) {
                return Poll::Ready(out);
            }
            // An executor that woke itself while being polled only yielded (as `join_all` over
            // a long list does after a few items): more resolvers may still queue keys.
            if flag.woken.load(Ordering::SeqCst) && self_wakes < MAX_SELF_WAKES {
                self_wakes += 1;
                continue;
            }
            self_wakes = 0;
            this.running.extend(this.queue.take());
            let mut finished = false;
            while let Poll::Ready(Some(())) = this.running.poll_next_unpin(cx) {
                finished = true;
            }
            // A finished fetch has woken the executor: poll it again at once rather than going
            // through the scheduler. Otherwise wait for I/O (ours or the fetches').
            if !finished {
                return Poll::Pending;
            }
        }
    }
}
