# s3rver on 127.0.0.1 for the storage TAP tests (030, 031): a launcher that
# gives s3rver our key pair, checks each request's SigV4 signature with the
# secret (s3rver checks the key, not the signature) and answers 403 to a
# wrong one, pages listings in key order (s3rver 3.7.1 does not) and serves
# faults on demand.  scripts/s3rver installs s3rver into s3rver_dir.
#
#   my $s3 = MilvusS3rver->start_for_test('bucket');   # or skip_all
#   ... start_for_test('bucket', tls => 1)   # https, self-signed: {cert}
#   $s3->{port}, {dir}, {bucket}, {key_id}, {secret}
#   $s3->server_conf('prefix')   # milvus.s3_* lines for postgresql.conf
#   $s3->stop; $s3->start;   # again, on the same port and data
#   $s3->set_fault('500 3 part'); $s3->uploads_left
#
# Every s3rver started is stopped when the test process ends.
#
# Objects live under dir/s3data, the log is dir/s3rver.log, each request's
# method and URL go to dir/requests.log, and the fault file dir/fault says
# "<kind> <n> [part|complete|<text>]": the next n requests (UploadParts,
# CompleteMultipartUploads, or those whose URL holds text, when named) get
# that fault (500, 503, stall:
# no answer at all, trickle: a 200 whose body comes at two bytes a second,
# truncate: the body of a GET of an object cut short).
# Multipart uploads in progress are s3data/<bucket>/._S3rver_uploads/<id>/;
# the launcher adds AbortMultipartUpload, which s3rver lacks.
package MilvusS3rver;

use strict;
use warnings;

use File::Path qw(make_path);
use IPC::Run;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my @started;
my $parent = $$;

my $launcher_js = <<'EOF';
const crypto = require('crypto');
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const fs = require('fs');
const [dir, port, bucket, keyId, secret, faultFile, keyFile, certFile] = process.argv.slice(2);
const path = require('path');
const requestLog = path.join(path.dirname(faultFile), 'requests.log');
const uploadsDir = path.join(dir, bucket, '._S3rver_uploads');
// The fault file says "<kind> <n> [<which>]": the next n requests (of those
// which names: part, an UploadPart; complete, a CompleteMultipartUpload;
// anything else, a request whose URL contains it)
// get that fault (500, 503, stall: no answer at all, truncate: the body of a
// GET of an object, not a listing, cut short).
function takeFault(req) {
  let kind, n, which;
  try { [kind, n, which] = fs.readFileSync(faultFile, 'utf8').trim().split(' '); } catch (e) { return null; }
  if (!(Number(n) > 0)) return null;
  const q = new URL(req.url, 'http://x').searchParams;
  if (which === 'part' && !(req.method === 'PUT' && q.has('partNumber'))) return null;
  if (which === 'complete' && !(req.method === 'POST' && q.has('uploadId'))) return null;
  if (which && which !== 'part' && which !== 'complete' && !req.url.includes(which)) return null;
  fs.writeFileSync(faultFile, `${kind} ${Number(n) - 1}${which ? ' ' + which : ''}`);
  return kind;
}
// s3rver 3.7.1 has multipart uploads but no AbortMultipartUpload: do it on
// its store, as S3 answers it
function abortUpload(req, res) {
  const url = new URL(req.url, 'http://x');
  const id = url.searchParams.get('uploadId');
  if (req.method === 'DELETE' && id !== null) {
    const up = path.join(uploadsDir, path.basename(id));
    if (!fs.existsSync(up)) {
      res.statusCode = 404;
      res.end('<Error><Code>NoSuchUpload</Code></Error>');
    } else {
      fs.rmSync(up, { recursive: true, force: true });
      res.statusCode = 204;
      res.end();
    }
    return true;
  }
  return false;
}
DUMMY_ACCOUNT.createKeyPair(keyId, secret);
// s3rver orders keys by their file names ("k.x._S3rver_object" before
// "k._S3rver_object"), so a listing page that ends at k.x skips k: list
// the whole prefix and page it in key order, as S3 does
const listAll = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function (b, options) {
  if (options.delimiter) return listAll.call(this, b, options);
  const all = await listAll.call(this, b, { prefix: options.prefix });
  const after = options.startAfter || '';
  const max = options.maxKeys === undefined ? Infinity : options.maxKeys;
  const objects = all.objects.filter((o) => o.key > after)
    .sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
  return { objects: objects.slice(0, max), commonPrefixes: [], isTruncated: objects.length > max };
};
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function sigv4Ok(req) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/
    .exec(req.headers.authorization || '');
  if (!m || m[1] !== keyId) return false;
  const url = new URL(req.url, 'http://x');
  const query = [...url.searchParams].map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => k + '=' + v).join('&');
  const names = m[4].split(';');
  const canonical = [req.method, url.pathname, query,
    names.map((h) => h + ':' + String(req.headers[h]).trim()).join('\n') + '\n',
    m[4], req.headers['x-amz-content-sha256']].join('\n');
  const date = req.headers['x-amz-date'];
  const scope = `${m[2]}/${m[3]}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope,
    crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, m[2]), m[3]), 's3'), 'aws4_request');
  return hmac(key, toSign).toString('hex') === m[5];
}
// https when given a key and a certificate
const tls = keyFile ? { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) } : {};
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory: dir,
  silent: true, configureBuckets: [{ name: bucket }], ...tls });
server.run().then(() => {
  const handler = server.httpServer.listeners('request')[0];
  server.httpServer.removeAllListeners('request');
  server.httpServer.on('request', (req, res) => {
    fs.appendFileSync(requestLog, `${req.method} ${req.url}\n`);
    const fault = takeFault(req);
    if (fault === '500' || fault === '503') {
      res.statusCode = Number(fault);
      res.end('<Error><Code>InternalError</Code></Error>');
      return;
    }
    if (fault === 'trickle') {
      req.resume();
      res.writeHead(200, { 'Content-Length': '100000' });
      const timer = setInterval(() => res.write('x'), 500);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (fault === 'stall') {
      req.resume();
      return;
    }
    if (fault === 'truncate' && req.method === 'GET' && !req.url.includes('?')) {
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write('x'.repeat(10));
      setTimeout(() => res.socket.destroy(), 50);
      return;
    }
    if (!sigv4Ok(req)) {
      res.statusCode = 403;
      res.end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
      return;
    }
    if (abortUpload(req, res)) return;
    handler(req, res);
  });
  console.log('listening');
}, (e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
EOF

# Skip the test when s3rver is not installed; else start one for bucket, in a
# new temporary directory, with a new key pair.
sub start_for_test
{
    my ($class, $bucket, %opts) = @_;
    my $s3rver_dir = $ENV{MV_S3RVER_DIR} // '/tmp/milvus-s3rver';
    plan skip_all => "s3rver is not installed in $s3rver_dir (scripts/s3rver installs it)"
      unless -f "$s3rver_dir/node_modules/s3rver/package.json";
    return $class->new(
        dir => PostgreSQL::Test::Utils::tempdir(),
        bucket => $bucket,
        key_id => 'AKIAMILVUSTEST',
        secret => 'mvSecret' . join('', map { ('a' .. 'z')[ rand 26 ] } 1 .. 24),
        s3rver_dir => $s3rver_dir,
        tls => $opts{tls});
}

# Write the launcher, pick a free port and start s3rver.
sub new
{
    my ($class, %args) = @_;
    my $self = bless {%args}, $class;
    $self->{port} = PostgreSQL::Test::Cluster::get_free_port();
    $self->{launcher} = "$self->{dir}/s3rver.js";
    open(my $js, '>', $self->{launcher}) or die "$self->{launcher}: $!";
    print $js $launcher_js;
    close($js);
    make_path("$self->{dir}/s3data");
    if ($self->{tls})
    {
        # a self-signed certificate for 127.0.0.1, which is its own CA
        $self->{cert} = "$self->{dir}/cert.pem";
        $self->{key} = "$self->{dir}/key.pem";
        PostgreSQL::Test::Utils::system_or_bail('openssl', 'req', '-x509', '-newkey', 'rsa:2048',
            '-nodes', '-keyout', $self->{key}, '-out', $self->{cert}, '-days', '2',
            '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
    }
    $self->{scheme} = $self->{tls} ? 'https' : 'http';
    $self->start;
    push @started, $self;
    return $self;
}

# Start s3rver (again, on the same port and data) and wait until it listens.
sub start
{
    my ($self) = @_;
    my $dir = $self->{dir};
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0)
    {
        $ENV{NODE_PATH} = "$self->{s3rver_dir}/node_modules";
        open(STDOUT, '>>', "$dir/s3rver.log");
        open(STDERR, '>&', \*STDOUT);
        # s3rver's continuation tokens use DES, which Node 17+ only has
        # in OpenSSL's legacy provider
        exec('node', '--openssl-legacy-provider', $self->{launcher}, "$dir/s3data", $self->{port},
            $self->{bucket}, $self->{key_id}, $self->{secret}, "$dir/fault",
            $self->{tls} ? ($self->{key}, $self->{cert}) : ())
          or die "exec node: $!";
    }
    $self->{pid} = $pid;
    for (1 .. 300)
    {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port});
        if ($sock) { close($sock); return; }
        usleep(100_000);
    }
    die "s3rver did not start; see $dir/s3rver.log";
}

# The milvus.s3_* settings that reach this server, for postgresql.conf.
sub server_conf
{
    my ($self, $prefix) = @_;
    return qq{milvus.s3_endpoint = '$self->{scheme}://127.0.0.1:$self->{port}'
milvus.s3_bucket = '$self->{bucket}'
milvus.s3_prefix = '$prefix'
milvus.s3_access_key_id = '$self->{key_id}'
milvus.s3_secret_access_key = '$self->{secret}'
};
}

# Write the settings file of the programs (milvus_s3_restore -c FILE) for
# this server and prefix, with more lines; return its path.
sub program_conf
{
    my ($self, $prefix, $more) = @_;
    my $path = "$self->{dir}/s3.conf";
    open(my $conf, '>', $path) or die "$path: $!";
    print $conf <<"CONF";
# settings of the S3 programs ("milvus." is optional)
milvus.s3_endpoint = '$self->{scheme}://127.0.0.1:$self->{port}'
milvus.s3_bucket = '$self->{bucket}'
milvus.s3_prefix = '$prefix'
s3_access_key_id = '$self->{key_id}'
s3_secret_access_key = '$self->{secret}'
$more
CONF
    close($conf);
    chmod 0600, $path;
    $self->{conf} = $path;
    return $path;
}

# milvus_s3_restore (settings from program_conf) of one file to path: its
# exit status; its messages are noted.
sub restore_file
{
    my ($self, $name, $path) = @_;
    my $stderr;
    IPC::Run::run([ 'milvus_s3_restore', '-c', $self->{conf}, $name, $path ], '2>', \$stderr);
    note("milvus_s3_restore: $stderr") if $stderr;
    return $? >> 8;
}

# What the bucket holds under <prefix>/wal/, as { name => size }, listed
# page_size keys a page (0: the server's default).
sub wal_objects
{
    my ($self, $page_size) = @_;
    my ($stdout, $stderr);
    IPC::Run::run([ 'milvus_s3_restore', '-c', $self->{conf}, '--list', $page_size // 0 ],
        '>', \$stdout, '2>', \$stderr)
      or die "milvus_s3_restore --list failed: $stderr";
    return { map { split / / } split /\n/, $stdout };
}

# Give the next requests a fault: "<kind> <n> [part|complete|<text>]", as above.
sub set_fault
{
    my ($self, $fault) = @_;
    open(my $fh, '>', "$self->{dir}/fault") or die;
    print $fh $fault;
    close($fh);
}

# The multipart uploads the bucket holds open (ids).
sub uploads_left
{
    my ($self) = @_;
    my $uploads = "$self->{dir}/s3data/$self->{bucket}/._S3rver_uploads";
    return () unless -d $uploads;
    opendir(my $dh, $uploads) or die;
    return grep { !/^\./ } readdir($dh);
}

# A started primary (name) that archives to this server under prefix, with
# more lines of postgresql.conf.
sub archiving_primary
{
    my ($self, $name, $prefix, $conf) = @_;
    my $node = PostgreSQL::Test::Cluster->new($name);
    $node->init(allows_streaming => 1);
    $node->append_conf(
        'postgresql.conf', qq{
shared_preload_libraries = 'milvus'
milvus.data_coordinator = off
archive_mode = on
archive_library = 'milvus'
@{[ $self->server_conf($prefix) ]}$conf
});
    $node->start;
    return $node;
}

# SQL that makes table t (id, note, emb floatvector(dim)) with rows 1..n,
# vec(i) their vectors, and a milvus_hnsw index t_emb: the tests' data.
sub vector_table_sql
{
    my ($dim, $n) = @_;
    return qq{
    CREATE EXTENSION milvus;
    CREATE FUNCTION vec(i int) RETURNS floatvector LANGUAGE sql IMMUTABLE
        RETURN ARRAY(SELECT (('x' || substr(md5(i || ',' || j), 1, 8))::bit(32)::int / 2147483648.0)::real
                     FROM generate_series(1, $dim) j)::floatvector;
    CREATE TABLE t (id int PRIMARY KEY, note text, emb floatvector($dim));
    INSERT INTO t SELECT i, 'a' || i, vec(i) FROM generate_series(1, $n) i;
    CREATE INDEX t_emb ON t USING milvus_hnsw (emb floatvector_l2_ops) WITH (m = 8);
};
}

# The name of the segment current on node, after a switch to a new one.
sub switch_wal
{
    my ($node) = @_;
    return $node->safe_psql('postgres',
        "SELECT pg_walfile_name(pg_switch_wal()); SELECT pg_walfile_name(pg_current_wal_lsn())"
    ) =~ s/\n.*//sr;
}

# Wait until node's archiver reports seg (or a later one) archived.
sub wait_archived
{
    my ($node, $seg) = @_;
    $node->poll_query_until('postgres',
        "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")
      or die "timed out waiting for $seg to be archived";
}

# Stop the s3rver this object started, by its pid.
sub stop
{
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid($self->{pid}, 0);
    $self->{pid} = undef;
}

END
{
    if ($$ == $parent) { $_->stop for @started; }
}

1;
