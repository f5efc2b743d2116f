//! The network side of a virtual module: DNS, TCP, TLS, SMTP (with `lettre`,
//! which also composes the MIME message) and POP3 (a small client: no
//! well-kept async POP3 crate exists).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::engine::Faults;

/// What went wrong on the network, before a family turns it into its codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The name did not resolve.
    #[error("DNS failure")]
    Dns,
    /// No TCP connection (refused, unreachable, bearer down).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The TLS handshake or certificate check failed.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The server refused the credentials.
    #[error("authentication failed")]
    Auth,
    /// The server answered an error reply.
    #[error("server replied {0}: {1}")]
    Rejected(u16, String),
    /// No answer in time.
    #[error("timeout")]
    Timeout,
    /// The exchange broke off.
    #[error("network error: {0}")]
    Network(String),
}

/// How a connection is secured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Security {
    /// Plain TCP.
    #[default]
    None,
    /// TLS from the start.
    Implicit,
    /// STARTTLS after the greeting.
    StartTls,
}

/// TLS verification: `None` accepts any certificate (security level 0).
#[derive(Clone, Debug, Default)]
pub struct TlsTrust {
    /// A CA certificate (PEM) to verify the server with.
    pub ca_pem: Option<Vec<u8>>,
}

/// Resolves `host` unless a fault says names do not resolve.
pub async fn resolve(host: &str, port: u16, faults: &Faults) -> Result<SocketAddr, NetError> {
    let (dns, unreachable, bearer_lost, _) = faults.snapshot();
    if bearer_lost {
        return Err(NetError::Connect("the bearer is down".into()));
    }
    if dns {
        return Err(NetError::Dns);
    }
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| NetError::Dns)?
        .find(SocketAddr::is_ipv4)
        .ok_or(NetError::Dns)?;
    if unreachable {
        return Err(NetError::Connect("server unreachable".into()));
    }
    Ok(addr)
}

/// An address and an optional display name.
pub type Person = (String, Option<String>);

/// The SIMCom recipient table: by type (0 To, 1 Cc, 2 Bcc) and index, as
/// `AT+SMTPRCPT` fills it in both families.
#[derive(Clone, Debug, Default)]
pub struct Recipients([Vec<Option<Person>>; 3]);

impl Recipients {
    /// Applies `AT+SMTPRCPT=<type>[,<index>[,"<address>"[,"<name>"]]]`;
    /// `false` for a bad type.
    pub fn apply(&mut self, cmd: &crate::engine::AtCommand) -> bool {
        let Some(list) = usize::try_from(cmd.int(0).unwrap_or(-1))
            .ok()
            .and_then(|t| self.0.get_mut(t))
        else {
            return false;
        };
        match (cmd.int(1).and_then(|i| usize::try_from(i).ok()), cmd.arg(2)) {
            (None, _) => list.clear(),
            (Some(i), None) => {
                if let Some(slot) = list.get_mut(i) {
                    *slot = None;
                }
            }
            (Some(i), Some(address)) => {
                if list.len() <= i {
                    list.resize(i + 1, None);
                }
                list[i] = Some((address.to_owned(), cmd.arg(3).map(str::to_owned)));
            }
        }
        true
    }

    /// The filled slots of one type: index and person.
    pub fn slots(&self, t: usize) -> Vec<(usize, Person)> {
        self.0
            .get(t)
            .map(|l| {
                l.iter()
                    .enumerate()
                    .filter_map(|(i, p)| Some((i, p.clone()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The people of one type, in index order.
    pub fn of(&self, t: usize) -> Vec<Person> {
        self.0
            .get(t)
            .map(|l| l.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }
}

/// One mail as the module composes it.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    /// SMTP server.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Security.
    pub security: Security,
    /// Trust.
    pub trust: TlsTrust,
    /// User and password, when authenticating.
    pub login: Option<(String, String)>,
    /// Sender address and name.
    pub from: (String, Option<String>),
    /// To, Cc, Bcc: address and name.
    pub to: Vec<(String, Option<String>)>,
    /// Cc.
    pub cc: Vec<(String, Option<String>)>,
    /// Bcc (in the envelope only).
    pub bcc: Vec<(String, Option<String>)>,
    /// Subject.
    pub subject: String,
    /// Body bytes in `charset`.
    pub body: Vec<u8>,
    /// MIME charset name.
    pub charset: String,
    /// Attachments: name and bytes.
    pub attachments: Vec<(String, Vec<u8>)>,
    /// The module clock's time.
    pub date: Option<SystemTime>,
}

fn mailbox((addr, name): &(String, Option<String>)) -> Result<Mailbox, NetError> {
    let address = addr
        .parse()
        .map_err(|_| NetError::Rejected(553, format!("bad address {addr}")))?;
    Ok(Mailbox::new(
        name.clone().filter(|n| !n.is_empty()),
        address,
    ))
}

/// Composes the MIME message the way the module would and sends it.
pub async fn send_mail(mail: &Outgoing, faults: &Faults) -> Result<(), NetError> {
    let addr = resolve(&mail.host, mail.port, faults).await?;
    let mut builder = Message::builder()
        .from(mailbox(&mail.from)?)
        .subject(mail.subject.clone());
    for r in &mail.to {
        builder = builder.to(mailbox(r)?);
    }
    for r in &mail.cc {
        builder = builder.cc(mailbox(r)?);
    }
    for r in &mail.bcc {
        builder = builder.bcc(mailbox(r)?);
    }
    if let Some(date) = mail.date {
        builder = builder.date(date);
    }
    let text_type = ContentType::parse(&format!("text/plain; charset={}", mail.charset))
        .map_err(|e| NetError::Network(format!("content type: {e}")))?;
    let text = SinglePart::builder()
        .header(text_type)
        .body(mail.body.clone());
    let message = if mail.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for (name, bytes) in &mail.attachments {
            let octets = ContentType::parse("application/octet-stream")
                .map_err(|e| NetError::Network(e.to_string()))?;
            parts = parts.singlepart(Attachment::new(name.clone()).body(bytes.clone(), octets));
        }
        builder.multipart(parts)
    }
    .map_err(|e| NetError::Network(format!("cannot compose: {e}")))?;

    let tls = match mail.security {
        Security::None => Tls::None,
        Security::Implicit | Security::StartTls => {
            let mut params = TlsParameters::builder(mail.host.clone());
            match &mail.trust.ca_pem {
                Some(pem) => {
                    let cert =
                        Certificate::from_pem(pem).map_err(|e| NetError::Tls(e.to_string()))?;
                    params = params.add_root_certificate(cert);
                }
                None => params = params.dangerous_accept_invalid_certs(true),
            }
            let params = params
                .build_rustls()
                .map_err(|e| NetError::Tls(e.to_string()))?;
            if mail.security == Security::Implicit {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(addr.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
    if let Some((user, password)) = &mail.login {
        transport = transport
            .credentials(Credentials::new(user.clone(), password.clone()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    let transport = transport.build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| smtp_error(&e))
}

fn smtp_error(e: &lettre::transport::smtp::Error) -> NetError {
    if let Some(code) = e.status() {
        let n: u16 = code.to_string().parse().unwrap_or(0);
        return match n {
            535 | 534 | 530 if e.to_string().contains("auth") || n == 535 => NetError::Auth,
            _ => NetError::Rejected(n, e.to_string()),
        };
    }
    if e.is_tls() {
        return NetError::Tls(e.to_string());
    }
    // lettre reports a failed handshake as a connection error whose source is
    // an I/O error carrying rustls' error (`InvalidContentType` from a server
    // that answers in clear): it is a TLS failure all the same.
    if let Some(tls) = rustls_error(e) {
        return NetError::Tls(tls);
    }
    if e.is_timeout() {
        return NetError::Timeout;
    }
    let text = e.to_string();
    if text.contains("refused") || text.contains("Connection") || text.contains("connect") {
        NetError::Connect(text)
    } else {
        NetError::Network(text)
    }
}

/// rustls' error somewhere in `e`'s sources, as text.
fn rustls_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<tokio_rustls::rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
        {
            return Some(tls.to_string());
        }
        next = err.source();
    }
    None
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A small POP3 client (RFC 1939): the module's side of POP3.
pub struct Pop3 {
    io: BufReader<Box<dyn Stream>>,
}

fn tls_config(trust: &TlsTrust) -> Result<Arc<tokio_rustls::rustls::ClientConfig>, NetError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Tls(e.to_string()))?;
    let config = match &trust.ca_pem {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| NetError::Tls(e.to_string()))?;
                roots.add(cert).map_err(|e| NetError::Tls(e.to_string()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny))
            .with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Security level 0: no check of the server's certificate.
#[derive(Debug)]
struct AcceptAny;

impl tokio_rustls::rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<tokio_rustls::rustls::client::danger::ServerCertVerified, tokio_rustls::rustls::Error>
    {
        Ok(tokio_rustls::rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<
        tokio_rustls::rustls::client::danger::HandshakeSignatureValid,
        tokio_rustls::rustls::Error,
    > {
        Ok(tokio_rustls::rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &tokio_rustls::rustls::DigitallySignedStruct,
    ) -> Result<
        tokio_rustls::rustls::client::danger::HandshakeSignatureValid,
        tokio_rustls::rustls::Error,
    > {
        Ok(tokio_rustls::rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<tokio_rustls::rustls::SignatureScheme> {
        tokio_rustls::rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

const POP3_TIMEOUT: Duration = Duration::from_secs(30);

impl Pop3 {
    /// Connects (plain or implicit TLS) and reads the greeting.
    pub async fn connect(
        host: &str,
        port: u16,
        implicit_tls: bool,
        trust: &TlsTrust,
        faults: &Faults,
    ) -> Result<Self, NetError> {
        let addr = resolve(host, port, faults).await?;
        let tcp = tokio::time::timeout(POP3_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| NetError::Timeout)?
            .map_err(|e| NetError::Connect(e.to_string()))?;
        let stream: Box<dyn Stream> = if implicit_tls {
            let name = rustls_pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| NetError::Tls(e.to_string()))?;
            let tls = tokio_rustls::TlsConnector::from(tls_config(trust)?)
                .connect(name, tcp)
                .await
                .map_err(|e| NetError::Tls(e.to_string()))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut pop = Self {
            io: BufReader::new(stream),
        };
        pop.status().await?;
        Ok(pop)
    }

    /// STLS (RFC 2595 §4): asks the server to start TLS after its greeting
    /// and upgrades the connection; a server that refuses is `Tls`.
    pub async fn stls(mut self, host: &str, trust: &TlsTrust) -> Result<Self, NetError> {
        self.command("STLS")
            .await
            .map_err(|e| NetError::Tls(format!("STLS refused: {e}")))?;
        if !self.io.buffer().is_empty() {
            return Err(NetError::Tls(
                "the server sent bytes after its STLS answer".into(),
            ));
        }
        let tcp = self.io.into_inner();
        let name = rustls_pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| NetError::Tls(e.to_string()))?;
        let tls = tokio_rustls::TlsConnector::from(tls_config(trust)?)
            .connect(name, tcp)
            .await
            .map_err(|e| NetError::Tls(e.to_string()))?;
        let stream: Box<dyn Stream> = Box::new(tls);
        Ok(Self {
            io: BufReader::new(stream),
        })
    }

    async fn read_line(&mut self) -> Result<Vec<u8>, NetError> {
        let mut line = Vec::new();
        let n = tokio::time::timeout(POP3_TIMEOUT, self.io.read_until(b'\n', &mut line))
            .await
            .map_err(|_| NetError::Timeout)?
            .map_err(|e| NetError::Network(e.to_string()))?;
        if n == 0 {
            return Err(NetError::Network(
                "the POP3 server closed the connection".into(),
            ));
        }
        Ok(line)
    }

    async fn status(&mut self) -> Result<String, NetError> {
        let line = self.read_line().await?;
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.starts_with("+OK") {
            Ok(text)
        } else {
            Err(NetError::Rejected(0, text))
        }
    }

    async fn command(&mut self, cmd: &str) -> Result<String, NetError> {
        let io = self.io.get_mut();
        io.write_all(format!("{cmd}\r\n").as_bytes())
            .await
            .map_err(|e| NetError::Network(e.to_string()))?;
        io.flush()
            .await
            .map_err(|e| NetError::Network(e.to_string()))?;
        self.status().await
    }

    /// USER and PASS; a refusal is `Auth`.
    pub async fn login(&mut self, user: &str, password: &str) -> Result<(), NetError> {
        self.command(&format!("USER {user}"))
            .await
            .map_err(|_| NetError::Auth)?;
        self.command(&format!("PASS {password}"))
            .await
            .map_err(|_| NetError::Auth)?;
        Ok(())
    }

    /// STAT: count and size.
    pub async fn stat(&mut self) -> Result<(u64, u64), NetError> {
        let line = self.command("STAT").await?;
        let mut it = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok());
        Ok((it.next().unwrap_or(0), it.next().unwrap_or(0)))
    }

    /// A single-line answer's fields after `+OK` (LIST n, UIDL n).
    pub async fn single(&mut self, cmd: &str) -> Result<Vec<String>, NetError> {
        let line = self.command(cmd).await?;
        Ok(line.split_whitespace().skip(1).map(str::to_owned).collect())
    }

    /// A multi-line answer as the server sends it: dot-stuffed, with the
    /// terminating `.` line (modules relay it like that).
    pub async fn multi(&mut self, cmd: &str) -> Result<Vec<u8>, NetError> {
        self.command(cmd).await?;
        let mut data = Vec::new();
        loop {
            let line = self.read_line().await?;
            data.extend_from_slice(&line);
            if line == b".\r\n" || line == b".\n" {
                return Ok(data);
            }
        }
    }

    /// DELE, RSET.
    pub async fn simple(&mut self, cmd: &str) -> Result<(), NetError> {
        self.command(cmd).await.map(|_| ())
    }

    /// QUIT: deletions take effect.
    pub async fn quit(mut self) -> Result<(), NetError> {
        self.command("QUIT").await.map(|_| ())
    }
}
