//! Real serial ports, opened by path (`/dev/ttyUSB2`, `COM7`, a pseudo-terminal).

use crate::error::AtError;

pub use tokio_serial::SerialStream;

/// Opens `path` at `baud`, 8N1, no flow control, ready for [`Client::new`](crate::Client::new).
///
/// ```no_run
/// # async fn run() -> Result<(), cellmail_at::AtError> {
/// use cellmail_at::{Client, ClientConfig};
/// let port = cellmail_at::serial::open("/dev/ttyUSB2", 115_200)?;
/// let mut client = Client::new(port, ClientConfig::default());
/// # Ok(()) }
/// ```
pub fn open(path: &str, baud: u32) -> Result<SerialStream, AtError> {
    use tokio_serial::SerialPortBuilderExt;
    tokio_serial::new(path, baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(|e| AtError::Io(std::io::Error::other(format!("cannot open {path}: {e}"))))
}
