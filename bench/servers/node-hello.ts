// Baseline: the cheapest HTTP answer Node can give, measured in the same run as Coffer.
import http from 'node:http';

const port = Number(process.argv[2]);
http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"hello":"world"}');
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
