import net from 'node:net';

/** One message a local mail server accepted. */
export interface Mail {
  from: string;
  to: string[];
  /** The whole message as sent (headers and body). */
  data: string;
}

/** A header's value (unfolded), by name in any case. */
export function header(m: Mail, name: string): string | undefined {
  const head = m.data.split('\r\n\r\n')[0].replace(/\r\n[ \t]/g, ' ');
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).toLowerCase() === name.toLowerCase()) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** The body of a single-part message, its transfer encoding undone. */
export function text(m: Mail): string {
  const body = m.data.slice(m.data.indexOf('\r\n\r\n') + 4);
  switch (header(m, 'content-transfer-encoding')) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return Buffer.from(
        body.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ).toString('utf8');
    default:
      return body;
  }
}

/**
 * A mail server on a free loopback port speaking real SMTP (greeting,
 * EHLO, MAIL, RCPT, DATA with dot-stuffing, RSET, QUIT) that keeps every
 * message: what the Stepwise server's mail client talks to in these tests.
 */
export async function startSmtp(): Promise<{ port: number; messages: Mail[]; close: () => void }> {
  const messages: Mail[] = [];
  const server = net.createServer((socket) => {
    let buffer = '';
    let inData = false;
    let data = '';
    let from = '';
    let to: string[] = [];
    const addr = (arg: string) => (/<([^>]*)>/.exec(arg)?.[1] ?? arg.split(':').slice(1).join(':').trim());
    socket.write('220 test.local ESMTP ready\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push({ from, to, data: Buffer.from(data, 'latin1').toString('utf8') });
            to = [];
            data = '';
            socket.write('250 2.0.0 queued\r\n');
          } else {
            data += (line.startsWith('.') ? line.slice(1) : line) + '\r\n';
          }
          continue;
        }
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') socket.write('250-test.local\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n');
        else if (verb === 'HELO' || verb === 'NOOP') socket.write('250 ok\r\n');
        else if (verb === 'MAIL') { from = addr(line); to = []; socket.write('250 ok\r\n'); }
        else if (verb === 'RCPT') { to.push(addr(line)); socket.write('250 ok\r\n'); }
        else if (verb === 'RSET') { to = []; socket.write('250 ok\r\n'); }
        else if (verb === 'DATA') { inData = true; socket.write('354 end with <CRLF>.<CRLF>\r\n'); }
        else if (verb === 'QUIT') { socket.end('221 bye\r\n'); }
        else socket.write('502 command not implemented\r\n');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, messages, close: () => server.close() };
}
