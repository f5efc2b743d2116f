//! A pseudo-terminal in raw mode: the host opens the slave's device path with
//! the same serial code users run; the module serves the master side.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;

use nix::pty::openpty;
use nix::sys::termios::{self, SetArg};
use tokio::sync::mpsc;

/// The module's end of a pseudo-terminal: bytes from the host arrive on
/// `from_host`, bytes sent to `to_host` reach it.
pub struct PtyEnd {
    /// The device path the host opens (`/dev/pts/N`).
    pub path: PathBuf,
    /// Bytes the host wrote.
    pub from_host: mpsc::Receiver<Vec<u8>>,
    /// Bytes for the host.
    pub to_host: mpsc::Sender<Vec<u8>>,
    /// Kept open so the line stays up while no host has it open.
    slave: File,
}

impl PtyEnd {
    /// The slave side, to keep open as long as the module runs.
    pub fn slave_guard(&self) -> Option<File> {
        self.slave.try_clone().ok()
    }
}

/// Opens a pseudo-terminal in raw mode and bridges its master side to
/// channels with two threads (blocking reads and writes on the master).
pub fn open() -> std::io::Result<PtyEnd> {
    let pty = openpty(None, None).map_err(std::io::Error::from)?;
    let mut attrs = termios::tcgetattr(&pty.slave).map_err(std::io::Error::from)?;
    termios::cfmakeraw(&mut attrs);
    termios::tcsetattr(&pty.slave, SetArg::TCSANOW, &attrs).map_err(std::io::Error::from)?;
    let path = nix::unistd::ttyname(&pty.slave).map_err(std::io::Error::from)?;
    let master = File::from(pty.master);
    let mut reader = master.try_clone()?;
    let mut writer = master;
    let (in_tx, from_host) = mpsc::channel::<Vec<u8>>(64);
    let (to_host, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    std::thread::Builder::new()
        .name("pty-read".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    // EIO while no host has the slave open: keep waiting.
                    Ok(0) | Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                    Ok(n) => {
                        if in_tx.blocking_send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
    std::thread::Builder::new()
        .name("pty-write".into())
        .spawn(move || {
            while let Some(bytes) = out_rx.blocking_recv() {
                if writer
                    .write_all(&bytes)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
        })?;
    Ok(PtyEnd {
        path,
        from_host,
        to_host,
        slave: File::from(pty.slave),
    })
}
