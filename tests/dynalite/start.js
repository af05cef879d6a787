// Starts dynalite (DynamoDB-compatible, in memory) on 127.0.0.1 and a port the system picks,
// then prints that port on stdout. Run by tests/integration/dynalite.py; stops on SIGTERM.
'use strict'
const dynalite = require('dynalite')

const ms = (name, fallback) => Number(process.env[name] || fallback)
const server = dynalite({
  createTableMs: ms('DYNALITE_CREATE_TABLE_MS', 100),
  deleteTableMs: ms('DYNALITE_DELETE_TABLE_MS', 50),
  updateTableMs: ms('DYNALITE_UPDATE_TABLE_MS', 50),
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(server.address().port + '\n')
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
