//! Real serial ports, opened by path (`/dev/ttyUSB2`, `COM7`, a pseudo-terminal).
//!
//! [`SerialStream`] is tokio-serial's stream with one change: flushing never
//! blocks a runtime thread. tokio-serial flushes with `tcdrain`, a blocking
//! call that waits until the UART has sent every queued byte (a 4 KiB chunk
//! takes about 355 ms at 115200 baud), on the runtime thread: on a
//! current-thread runtime no timer fires meanwhile. Here writing hands the
//! bytes to the kernel, as before, and flushing runs `tcdrain` on tokio's
//! blocking pool, on a duplicate of the port's descriptor, and waits for it
//! asynchronously.
//!
//! Flushing still means "the bytes have left the line", which is what the
//! `+++` guard time needs: the [`Client`](crate::Client) flushes after every
//! write, so the silence before `+++` is counted from when the last data byte
//! left the UART, not from when it was queued in the kernel (which would cut
//! the guard short by the time the queue takes to drain), and whatever the
//! line really does (a USB adapter faster than its nominal rate, a UART
//! paused by the kernel).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
#[cfg(unix)]
use tokio::task::JoinHandle;

use crate::error::AtError;

/// Blocks until every byte written to the port has left the line.
#[cfg(unix)]
trait DrainLine: Send {
    fn drain(&mut self) -> io::Result<()>;
}

#[cfg(unix)]
type Drainer = Box<dyn DrainLine>;

/// Makes a new [`Drainer`] (after one was lost with a panicked task).
#[cfg(unix)]
type Remake = Box<dyn Fn() -> io::Result<Drainer> + Send>;

/// A second descriptor of the port, owned here: `tcdrain` on it, and
/// dropping it is a plain `close` (not serialport's, which clears the
/// port's exclusive lock with `TIOCNXCL` while the port is still in use).
/// nix 0.26 (serialport's own) works on raw descriptors without `unsafe`;
/// an `OwnedFd` could not be made from the port's descriptor without it.
#[cfg(unix)]
struct Tcdrain(std::os::unix::io::RawFd);

#[cfg(unix)]
impl Tcdrain {
    /// A duplicate of `fd` (close-on-exec).
    fn duplicate(fd: std::os::unix::io::RawFd) -> io::Result<Self> {
        use nix::fcntl::{FcntlArg, fcntl};
        let second = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(0)).map_err(io::Error::from)?;
        Ok(Self(second))
    }
}

#[cfg(unix)]
impl DrainLine for Tcdrain {
    fn drain(&mut self) -> io::Result<()> {
        nix::sys::termios::tcdrain(self.0).map_err(io::Error::from)
    }
}

#[cfg(unix)]
impl Drop for Tcdrain {
    fn drop(&mut self) {
        let _ = nix::unistd::close(self.0);
    }
}

/// How [`SerialStream`] waits for the line to drain.
enum Drain {
    /// Ready to drain.
    #[cfg(unix)]
    Idle(Drainer),
    /// Draining on the blocking pool. `stale`: bytes were written since it
    /// started, so its end says nothing about them.
    #[cfg(unix)]
    Running {
        task: JoinHandle<(Drainer, io::Result<()>)>,
        stale: bool,
    },
    /// No second descriptor: flushing is tokio-serial's on Windows (named
    /// pipes flush asynchronously), and does not wait on Unix.
    Unavailable,
}

/// A serial port from [`open`]: tokio-serial's stream whose flush waits for
/// the line to drain without blocking the runtime (see the [module](self)
/// documentation).
pub struct SerialStream {
    inner: tokio_serial::SerialStream,
    drain: Drain,
    /// Bytes were written since the last drain started.
    dirty: bool,
    /// Makes the drainer again should it be lost with its task.
    #[cfg(unix)]
    remake: Option<Remake>,
}

impl SerialStream {
    /// The tokio-serial stream, e.g. to change settings
    /// (`tokio_serial::SerialPort`).
    pub fn get_ref(&self) -> &tokio_serial::SerialStream {
        &self.inner
    }

    /// The tokio-serial stream, mutably. Flushing it directly blocks the
    /// calling thread (`tcdrain`).
    pub fn get_mut(&mut self) -> &mut tokio_serial::SerialStream {
        &mut self.inner
    }

    /// Gives the tokio-serial stream back.
    pub fn into_inner(self) -> tokio_serial::SerialStream {
        self.inner
    }

    /// Waits until every byte written has left the line (the same as
    /// flushing).
    pub async fn drain(&mut self) -> io::Result<()> {
        tokio::io::AsyncWriteExt::flush(self).await
    }

    #[cfg(unix)]
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        use std::future::Future;
        loop {
            match std::mem::replace(&mut self.drain, Drain::Unavailable) {
                Drain::Idle(drainer) if !self.dirty => {
                    self.drain = Drain::Idle(drainer);
                    return Poll::Ready(Ok(()));
                }
                Drain::Idle(mut drainer) => {
                    self.dirty = false;
                    let task = tokio::task::spawn_blocking(move || {
                        let result = drainer.drain();
                        (drainer, result)
                    });
                    self.drain = Drain::Running { task, stale: false };
                }
                Drain::Running { mut task, stale } => match Pin::new(&mut task).poll(cx) {
                    Poll::Pending => {
                        self.drain = Drain::Running { task, stale };
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok((drainer, result))) => {
                        self.drain = Drain::Idle(drainer);
                        if stale {
                            // Started before the last write: drain again.
                            continue;
                        }
                        if result.is_err() {
                            self.dirty = true;
                        }
                        return Poll::Ready(result);
                    }
                    Poll::Ready(Err(e)) => {
                        // The drainer is lost with its task: a new one for
                        // the next flush, which drains again.
                        self.dirty = true;
                        self.drain = match self.remake.as_ref().map(|remake| remake()) {
                            Some(Ok(drainer)) => Drain::Idle(drainer),
                            Some(Err(err)) => {
                                tracing::warn!(error = %err, "no second descriptor: flushing will not wait for the line to drain");
                                Drain::Unavailable
                            }
                            None => Drain::Unavailable,
                        };
                        return Poll::Ready(Err(io::Error::other(e)));
                    }
                },
                Drain::Unavailable => return Poll::Ready(Ok(())),
            }
        }
    }

    #[cfg(not(unix))]
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
}

impl fmt::Debug for SerialStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use tokio_serial::SerialPort;
        let draining = match &self.drain {
            #[cfg(unix)]
            Drain::Idle(_) => "idle",
            #[cfg(unix)]
            Drain::Running { .. } => "running",
            Drain::Unavailable => "unavailable",
        };
        f.debug_struct("SerialStream")
            .field("name", &self.inner.name())
            .field("drain", &draining)
            .finish()
    }
}

impl AsyncRead for SerialStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SerialStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            if n > 0 {
                this.dirty = true;
                #[cfg(unix)]
                if let Drain::Running { stale, .. } = &mut this.drain {
                    *stale = true;
                }
            }
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_drain(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // tokio-serial's shutdown is a flush (a blocking one).
        self.poll_drain(cx)
    }
}

#[cfg(unix)]
impl std::os::unix::io::AsRawFd for SerialStream {
    fn as_raw_fd(&self) -> std::os::unix::io::RawFd {
        self.inner.as_raw_fd()
    }
}

/// A serial setting that cannot work, refused before the port is opened.
/// [`open`] returns it inside [`AtError::Io`] (kind `InvalidInput`); the
/// facade turns it into `MailError::Invalid` naming the same field.
///
/// ```
/// use cellmail_at::serial;
/// let e = serial::check("/dev/ttyUSB2", 0).unwrap_err();
/// assert_eq!(e.field, "baud");
/// assert!(serial::check("/dev/ttyUSB2", 115_200).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidSetting {
    /// The setting: `serial port` or `baud`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks the settings [`open`] takes, without touching the port: a path
/// that is not empty and holds no NUL byte, a baud rate above 0.
pub fn check(path: &str, baud: u32) -> Result<(), InvalidSetting> {
    let invalid = |field, reason: &str| {
        Err(InvalidSetting {
            field,
            reason: reason.to_owned(),
        })
    };
    if path.is_empty() {
        return invalid(
            "serial port",
            "empty: name the port, e.g. /dev/ttyUSB2 or COM7",
        );
    }
    if path.contains('\0') {
        return invalid("serial port", "contains a NUL byte");
    }
    if baud == 0 {
        return invalid(
            "baud",
            "0 is not a baud rate: use the module's UART rate, e.g. 115200",
        );
    }
    Ok(())
}

/// The error of a port that could not be opened, keeping what kind of
/// failure it was: a missing port is `NotFound`, a directory `IsADirectory`,
/// a file or device that is not a terminal (`/dev/null`) `InvalidInput`, a
/// port another program holds `ResourceBusy`.
fn open_error(path: &str, e: &tokio_serial::Error) -> AtError {
    use tokio_serial::ErrorKind as K;
    let kind = match e.kind {
        K::Io(kind) => kind,
        K::InvalidInput => io::ErrorKind::InvalidInput,
        // serialport's word for EBUSY: another program holds the port.
        K::NoDevice => io::ErrorKind::ResourceBusy,
        K::Unknown => {
            #[cfg(unix)]
            if !is_terminal(path) {
                return AtError::Io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("cannot open {path}: not a serial port (not a terminal)"),
                ));
            }
            io::ErrorKind::Other
        }
    };
    AtError::Io(io::Error::new(kind, format!("cannot open {path}: {e}")))
}

/// What the path is, found without opening it (opening a port raises DTR,
/// which some modules take as a wake-up): a missing path, a directory, or
/// something that is no device at all is refused here.
#[cfg(unix)]
fn check_path(path: &str) -> Result<(), AtError> {
    use std::os::unix::fs::FileTypeExt;
    let refuse = |kind, why: &str| {
        Err(AtError::Io(io::Error::new(
            kind,
            format!("cannot open {path}: {why}"),
        )))
    };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            refuse(io::ErrorKind::NotFound, "no such port")
        }
        Err(e) => refuse(e.kind(), &e.to_string()),
        Ok(m) if m.is_dir() => refuse(
            io::ErrorKind::IsADirectory,
            "a directory, not a serial port",
        ),
        Ok(m) if !m.file_type().is_char_device() => refuse(
            io::ErrorKind::InvalidInput,
            "not a serial port (not a character device)",
        ),
        Ok(_) => Ok(()),
    }
}

/// Whether `path` opens as a terminal (serialport already opened it and
/// failed, so opening it once more changes nothing on the line).
#[cfg(unix)]
fn is_terminal(path: &str) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let flags = nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_NONBLOCK;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(flags.bits())
        .open(path)
        .is_ok_and(|f| nix::unistd::isatty(f.as_raw_fd()).unwrap_or(false))
}

/// Opens `path` at `baud`, 8N1, no flow control, ready for [`Client::new`](crate::Client::new).
///
/// Settings that cannot work ([`check`]) are refused before the port is
/// touched, as an [`AtError::Io`] of kind `InvalidInput` holding an
/// [`InvalidSetting`]. A port that cannot be opened keeps its kind:
/// `NotFound` (no such port), `IsADirectory`, `InvalidInput` (not a
/// terminal, e.g. `/dev/null`), `PermissionDenied`, `ResourceBusy` (another
/// program holds it).
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail_at::AtError> {
/// use cellmail_at::{Client, ClientConfig};
/// let port = cellmail_at::serial::open("/dev/ttyUSB2", 115_200)?;
/// let mut client = Client::new(port, ClientConfig::default());
/// # Ok(()) }
/// ```
pub fn open(path: &str, baud: u32) -> Result<SerialStream, AtError> {
    check(path, baud).map_err(|e| AtError::Io(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
    #[cfg(unix)]
    check_path(path)?;
    let cannot = |e: tokio_serial::Error| open_error(path, &e);
    let builder = tokio_serial::new(path, baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None);
    #[cfg(unix)]
    {
        // What tokio-serial's `open_native_async` does, keeping a duplicate
        // of the descriptor to drain the line with.
        use std::os::unix::io::AsRawFd;
        let port = builder.open_native().map_err(cannot)?;
        let (drain, remake) = match Tcdrain::duplicate(port.as_raw_fd())
            .and_then(|spare| Ok((Tcdrain::duplicate(spare.0)?, spare)))
        {
            Ok((second, spare)) => {
                let remake: Remake =
                    Box::new(move || Ok(Box::new(Tcdrain::duplicate(spare.0)?) as Drainer));
                (Drain::Idle(Box::new(second)), Some(remake))
            }
            Err(e) => {
                tracing::warn!(path, error = %e, "no second descriptor: flushing will not wait for the line to drain");
                (Drain::Unavailable, None)
            }
        };
        let inner = tokio_serial::SerialStream::try_from(port).map_err(cannot)?;
        Ok(SerialStream {
            inner,
            drain,
            dirty: false,
            remake,
        })
    }
    #[cfg(not(unix))]
    {
        use tokio_serial::SerialPortBuilderExt;
        let inner = builder.open_native_async().map_err(cannot)?;
        Ok(SerialStream {
            inner,
            drain: Drain::Unavailable,
            dirty: false,
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A line that takes `per_drain` to drain, blocking the thread that waits,
    /// as `tcdrain` does on a real UART.
    struct SlowLine {
        per_drain: Duration,
        drains: Arc<AtomicU32>,
    }

    impl DrainLine for SlowLine {
        fn drain(&mut self) -> io::Result<()> {
            std::thread::sleep(self.per_drain);
            self.drains.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn slow_pair(
        per_drain: Duration,
    ) -> (SerialStream, tokio_serial::SerialStream, Arc<AtomicU32>) {
        let (host, module) = tokio_serial::SerialStream::pair().expect("pseudo-terminal pair");
        let drains = Arc::new(AtomicU32::new(0));
        let line = SlowLine {
            per_drain,
            drains: Arc::clone(&drains),
        };
        let port = SerialStream {
            inner: host,
            drain: Drain::Idle(Box::new(line)),
            dirty: false,
            remake: None,
        };
        (port, module, drains)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn waiting_for_the_line_to_drain_never_blocks_the_runtime() {
        let (mut port, mut module, drains) = slow_pair(Duration::from_millis(300));
        let ticks = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        port.write_all(b"AT\r").await.expect("write");
        let started = std::time::Instant::now();
        port.flush().await.expect("flush");
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "the flush waits for the line"
        );
        let ticked = ticks.load(Ordering::SeqCst);
        assert!(
            ticked >= 10,
            "timers stopped while the line drained: {ticked} ticks"
        );
        assert_eq!(drains.load(Ordering::SeqCst), 1);
        // Nothing written since: nothing to wait for.
        let started = std::time::Instant::now();
        port.flush().await.expect("flush");
        assert!(started.elapsed() < Duration::from_millis(100));
        assert_eq!(drains.load(Ordering::SeqCst), 1);
        let mut got = [0u8; 3];
        module.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"AT\r");
        ticker.abort();
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_write_during_a_cancelled_drain_is_drained_too() {
        let (mut port, _module, drains) = slow_pair(Duration::from_millis(200));
        port.write_all(b"+").await.expect("write");
        // Given up while draining...
        let cancelled = tokio::time::timeout(Duration::from_millis(50), port.flush()).await;
        assert!(cancelled.is_err());
        // ...and more written: the drain under way does not cover it.
        port.write_all(b"++").await.expect("write");
        let started = std::time::Instant::now();
        port.flush().await.expect("flush");
        assert_eq!(drains.load(Ordering::SeqCst), 2);
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
    }

    /// A drain whose task panics.
    struct Panics;

    impl DrainLine for Panics {
        fn drain(&mut self) -> io::Result<()> {
            panic!("tcdrain panicked");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_drainer_lost_with_its_task_is_made_again() {
        let (host, _module) = tokio_serial::SerialStream::pair().expect("pseudo-terminal pair");
        let drains = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&drains);
        let mut port = SerialStream {
            inner: host,
            drain: Drain::Idle(Box::new(Panics)),
            dirty: false,
            remake: Some(Box::new(move || {
                Ok(Box::new(SlowLine {
                    per_drain: Duration::from_millis(10),
                    drains: Arc::clone(&counter),
                }) as Drainer)
            })),
        };
        port.write_all(b"AT\r").await.expect("write");
        assert!(port.flush().await.is_err());
        // Not "drained" for ever after: the next flush drains again.
        port.flush().await.expect("flush");
        assert_eq!(drains.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn open_drains_through_a_second_descriptor() {
        use tokio_serial::SerialPort;
        let (mut module, slave) = tokio_serial::SerialStream::pair().expect("pair");
        let path = slave.name().expect("slave name");
        // It holds the port's lock; the master keeps the pair alive.
        drop(slave);
        let mut port = open(&path, 115_200).expect("open");
        assert!(matches!(port.drain, Drain::Idle(_)), "{port:?}");
        port.write_all(b"AT+CSQ\r").await.expect("write");
        port.drain().await.expect("drain");
        let mut got = [0u8; 7];
        module.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"AT+CSQ\r");
    }

    /// The kind of a failed open, and that the message names the path.
    fn open_kind(path: &str, baud: u32) -> io::ErrorKind {
        match open(path, baud) {
            Err(AtError::Io(e)) => {
                assert!(e.to_string().contains(path), "{e}");
                e.kind()
            }
            Err(other) => panic!("{path}: not an I/O error: {other}"),
            Ok(port) => panic!("{path}: opened {port:?}"),
        }
    }

    #[test]
    fn a_port_that_cannot_be_opened_keeps_its_kind() {
        let dir = std::env::temp_dir().join(format!("cellmail-serial-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("not-a-port");
        std::fs::write(&file, b"").expect("temp file");
        let dir_path = dir.to_str().expect("utf-8 temp dir");
        let file_path = file.to_str().expect("utf-8 temp file");
        let missing = dir.join("ttyUSB9");
        let cases = [
            ("/dev/null", io::ErrorKind::InvalidInput),
            (dir_path, io::ErrorKind::IsADirectory),
            (file_path, io::ErrorKind::InvalidInput),
            (missing.to_str().expect("utf-8"), io::ErrorKind::NotFound),
        ];
        for (path, kind) in cases {
            assert_eq!(open_kind(path, 115_200), kind, "{path}");
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn impossible_settings_are_refused_before_the_port_is_touched() {
        // A missing port would be NotFound: the setting is refused first.
        let cases = [
            ("/dev/does-not-exist", 0, "baud"),
            ("", 115_200, "serial port"),
            ("/dev/tty\0USB0", 115_200, "serial port"),
        ];
        for (path, baud, field) in cases {
            match open(path, baud) {
                Err(AtError::Io(e)) => {
                    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
                    let inner = e.get_ref().and_then(|i| i.downcast_ref::<InvalidSetting>());
                    assert_eq!(inner.map(|i| i.field), Some(field), "{e}");
                    assert!(
                        e.to_string().starts_with(&format!("invalid {field}: ")),
                        "{e}"
                    );
                }
                other => panic!("{path:?} at {baud}: {other:?}"),
            }
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_pseudo_terminal_opens_at_any_real_rate() {
        use tokio_serial::SerialPort;
        let (_module, slave) = tokio_serial::SerialStream::pair().expect("pair");
        let path = slave.name().expect("slave name");
        drop(slave);
        let port = open(&path, 9_600);
        assert!(port.is_ok(), "{port:?}");
        drop(port);
        // The same terminal at baud 0: refused, not opened.
        let refused = open(&path, 0);
        assert!(
            matches!(&refused, Err(AtError::Io(e)) if e.kind() == io::ErrorKind::InvalidInput),
            "{refused:?}"
        );
    }
}
