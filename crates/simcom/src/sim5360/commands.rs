//! Typed SIM5360 commands (sans-I/O), as the e-mail note (§2) writes them.

use cellmail_at::{Command, Secret};

/// The prefix of the SMTP results, URCs after `OK` (§1 "SMTP URCs").
pub const SMTP_RESULT: &str = "+SMTP:";
/// The prefix of the POP3 results, before `OK` or as URCs after it (§1 "POP3 URCs").
pub const POP3_RESULT: &str = "+POP3:";

/// `AT+CGSOCKCONT=<cid>,"IP","<apn>","0.0.0.0",0,0`: the socket PDP context.
pub fn socket_context(cid: u8, apn: &str) -> Command {
    Command::write("+CGSOCKCONT")
        .int(i64::from(cid))
        .string("pdp type", "IP")
        .string("apn", apn)
        .string("address", "0.0.0.0")
        .int(0)
        .int(0)
}

/// `AT+SMTPBODY="<text>"`: the body inline.
pub fn set_body(text: &str) -> Command {
    Command::write("+SMTPBODY").string("body", text)
}

/// `AT+SMTPFILE=<index>,"<file>"`: a file of the current directory.
pub fn set_attachment(index: u8, file: &str) -> Command {
    Command::write("+SMTPFILE")
        .int(i64::from(index))
        .string("file", file)
}

/// `AT+SMTPFILE=<index>`: removes one attachment.
pub fn delete_attachment(index: u8) -> Command {
    Command::write("+SMTPFILE").int(i64::from(index))
}

/// `AT+SMTPFILE`: removes every attachment.
pub fn delete_attachments() -> Command {
    Command::exec("+SMTPFILE")
}

/// `AT+SMTPSEND` → `+SMTP: OK`, `OK`, later `+SMTP: SUCCESS` or an error URC.
pub fn send() -> Command {
    Command::exec("+SMTPSEND").response_prefix("+SMTPSEND:")
}

/// `AT+SMTPSEND?`: is the SMTP client idle?
pub fn read_send() -> Command {
    Command::read("+SMTPSEND")
}

/// `AT+SMTPSTOP`: ends the SMTP session at once.
pub fn stop() -> Command {
    Command::exec("+SMTPSTOP")
}

fn pop3(name: &'static str) -> Command {
    Command::exec(name).response_prefix(POP3_RESULT)
}

/// `AT+POP3SRV="<server>","<user>","<password>",<port>`.
pub fn set_pop3_server(host: &str, user: &str, password: &Secret, port: u16) -> Command {
    crate::common::set_pop3_server(host, user, password, port)
}

/// `AT+POP3IN` → `+POP3: SUCCESS`, `OK`.
pub fn login() -> Command {
    pop3("+POP3IN")
}

/// `AT+POP3NUM` → `+POP3: <count> <size>`.
pub fn count() -> Command {
    pop3("+POP3NUM")
}

/// `AT+POP3LIST=<n>` → `+POP3: <n>, <size>`.
pub fn list(number: u32) -> Command {
    Command::write("+POP3LIST")
        .int(i64::from(number))
        .response_prefix("+POP3:")
}

/// `AT+POP3LIST` → one `+POP3: <n>, <size>` per message.
pub fn list_all() -> Command {
    pop3("+POP3LIST")
}

/// `AT+POP3HDR=<n>` → the header lines, `OK`: a text block (its blank
/// lines and URC-like lines are the message's).
pub fn header(number: u32) -> Command {
    Command::write("+POP3HDR")
        .int(i64::from(number))
        .response_prefix("+POP3:")
        .expect_text_block()
}

/// `AT+POP3GET=<n>` → `OK`, `+POP3: SUCCESS`, then the saved path line.
pub fn get(number: u32) -> Command {
    Command::write("+POP3GET")
        .int(i64::from(number))
        .response_prefix("+POP3GET:")
}

/// `AT+POP3READ`: the last e-mail got, as a text block.
pub fn read_last() -> Command {
    Command::exec("+POP3READ")
        .response_prefix("+POP3READ:")
        .expect_text_block()
}

/// `AT+POP3READ=0,"<folder>/<file>"`: an e-mail saved in the file system.
pub fn read_file(path: &str) -> Command {
    Command::write("+POP3READ")
        .int(0)
        .string("file", path)
        .response_prefix("+POP3READ:")
        .expect_text_block()
}

/// `AT+POP3DEL=<n>` → `+POP3: SUCCESS`, `OK`.
pub fn delete(number: u32) -> Command {
    Command::write("+POP3DEL")
        .int(i64::from(number))
        .response_prefix("+POP3:")
}

/// `AT+POP3OUT` → `+POP3: SUCCESS`, `OK`: deletions take effect.
pub fn logout() -> Command {
    pop3("+POP3OUT")
}

/// `AT+POP3STOP`: ends the POP3 session at once (deletions are lost).
pub fn stop_pop3() -> Command {
    Command::exec("+POP3STOP")
}

/// `AT+FSLOCA=<0 local|1 card>`: where e-mails are saved.
pub fn storage(card: bool) -> Command {
    Command::write("+FSLOCA").int(i64::from(card))
}

/// `AT+FSCD=<folder>` (unquoted, as the manual writes it).
pub fn change_directory(folder: &str) -> Command {
    Command::write("+FSCD").bare("folder", folder)
}

/// `AT+FSLS`: the current folder's entries.
pub fn list_directory() -> Command {
    Command::exec("+FSLS")
}

/// `AT+FSATTRI=<file>` (unquoted, as SIMCom's file-system chapter writes it)
/// → `+FSATTRI: <file_size>`: a file of the current folder. Not in the
/// e-mail note.
pub fn file_attributes(file: &str) -> Command {
    Command::write("+FSATTRI").bare("file", file)
}

/// `AT+FSDEL=<file>` (unquoted): deletes a file of the current folder. Not
/// in the e-mail note (SIMCom's file-system chapter).
pub fn delete_file(file: &str) -> Command {
    Command::write("+FSDEL").bare("file", file)
}

/// `AT+FSRMDIR=<folder>` (unquoted): removes a folder of the current folder.
/// Not in the e-mail note (SIMCom's file-system chapter).
pub fn remove_directory(folder: &str) -> Command {
    Command::write("+FSRMDIR").bare("folder", folder)
}

/// `AT+CCLK="<yy/MM/dd,hh:mm:ss±zz>"`: §1 recommends setting the clock
/// and time zone, which go into the mail's header ("refer to command
/// +CCLK"); the note gives no example, the form is SIMCom's (as in the
/// SIM7000 note §5.1).
pub fn set_clock(time: &str) -> Command {
    Command::write("+CCLK").string("time", time)
}

/// The folder `AT+POP3GET` saves e-mails into (§2: `C:/Email` or `D:/Email`
/// by `AT+FSLOCA`).
pub const fn email_folder(card: bool) -> &'static str {
    if card { "D:/Email/" } else { "C:/Email/" }
}
