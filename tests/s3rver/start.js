// Starts s3rver (S3-compatible, objects in a folder) on 127.0.0.1 and a port the system picks,
// with the buckets named in S3RVER_BUCKETS (comma-separated) created, then prints that port on
// stdout. Run by tests/integration/s3server.py; stops on SIGTERM.
//
// Credentials, checked as S3 checks them: the only key pair is S3RVER_KEY / S3RVER_SECRET
// (s3rver's built-in S3RVER/S3RVER pair is revoked). s3rver itself looks up the access key id
// (InvalidAccessKeyId) but does not verify Signature Version 4, so a middleware placed before
// its own recomputes every signed request's signature with aws4 (an independent SigV4
// implementation, from npm) and answers 403 SignatureDoesNotMatch, as S3 does, when it differs;
// a header-signed request without x-amz-content-sha256 gets S3's 400 InvalidRequest. Requests
// with no Authorization header (the page, read from the bucket's HTTP endpoint) go through
// unsigned, as from a public bucket.
//
// Every request is logged on stderr as one line "METHOD PATH STATUS" (for tests and the
// benchmark that count PUTs); S3RVER_QUIET=1 turns that off.
'use strict'
const aws4 = require('aws4')
const S3rver = require('s3rver')
const AWSAccount = require('s3rver/lib/models/account')
const S3Error = require('s3rver/lib/models/error')

const key = process.env.S3RVER_KEY || 'S3RVER'
const secret = process.env.S3RVER_SECRET || 'S3RVER'
const directory = process.env.S3RVER_DIRECTORY
if (!directory) {
  process.stderr.write('S3RVER_DIRECTORY must name the folder for the objects\n')
  process.exit(2)
}
const buckets = (process.env.S3RVER_BUCKETS || '').split(',').filter((b) => b)

AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
AWSAccount.DUMMY_ACCOUNT.createKeyPair(key, secret)

function fields(authorization) {
  const [scheme, rest] = [authorization.split(' ', 1)[0], authorization.slice(authorization.indexOf(' ') + 1)]
  if (scheme !== 'AWS4-HMAC-SHA256') return null
  const out = {}
  for (const part of rest.split(',')) {
    const at = part.indexOf('=')
    out[part.slice(0, at).trim()] = part.slice(at + 1).trim()
  }
  return out
}

async function checkSignature(ctx, next) {
  const authorization = ctx.get('authorization')
  if (!authorization) return next()
  const f = fields(authorization)
  if (!f || !f.Credential || !f.SignedHeaders || !f.Signature) return next() // s3rver's own checks
  const [accessKeyId, date, region, service] = f.Credential.split('/')
  if (accessKeyId !== key) return next() // s3rver answers InvalidAccessKeyId
  if (!ctx.get('x-amz-content-sha256')) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256')
  }
  const signed = f.SignedHeaders.split(';')
  const headers = {}
  for (const name of signed) headers[name] = ctx.get(name)
  const signer = new aws4.RequestSigner(
    { host: ctx.get('host'), path: ctx.url, method: ctx.method, headers, service, region, doNotModifyHeaders: true },
    { accessKeyId, secretAccessKey: secret })
  signer.datetime = ctx.get('x-amz-date')
  const expected = signer.signature()
  if (!signed.includes('host') || !signed.includes('x-amz-date') || expected !== f.Signature ||
      date !== signer.datetime.slice(0, 8)) {
    throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the ' +
      'signature you provided. Check your key and signing method.', { AWSAccessKeyId: accessKeyId })
  }
  return next()
}

async function logRequest(ctx, next) {
  let status
  try {
    await next()
    status = ctx.status
  } catch (err) {
    status = err.status || 500
    throw err
  } finally {
    if (process.env.S3RVER_QUIET !== '1') process.stderr.write(`${ctx.method} ${ctx.path} ${status}\n`)
  }
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  // A website configuration, as a bucket behind a CDN serves: a folder's address (.../site/dash/,
  // with or without a query) answers its index.html, for a viewer's browser (no x-amz-* header).
  configureBuckets: buckets.map((name) => ({
    name,
    configs: ['<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>'],
  })),
})
// Koa composes its middleware when the server starts listening: these run before s3rver's own.
server.middleware.unshift(logRequest, checkSignature)
server.run((err, { port } = {}) => {
  if (err) {
    process.stderr.write(String(err) + '\n')
    process.exit(1)
  }
  process.stdout.write(port + '\n')
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
