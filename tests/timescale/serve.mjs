// A TimescaleDB server for tests/timescale: PGlite built with TimescaleDB, on the PostgreSQL wire protocol.
//
//     node serve.mjs PORT [DATA_DIR]
//
// DATA_DIR defaults to memory:// (a fresh database each start). PGlite is one PostgreSQL backend in this
// process: pglite-socket serves one client connection at a time, and every client shares that backend's
// session (see tests/timescale/server.py). Prints "listening on 127.0.0.1:PORT" once it accepts connections.
import { PGlite } from '@electric-sql/pglite'
import { timescaledb } from '@electric-sql/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const [port, dataDir = 'memory://'] = process.argv.slice(2)
if (!/^\d+$/.test(port ?? '')) {
  console.error('usage: node serve.mjs PORT [DATA_DIR]')
  process.exit(2)
}
const db = await PGlite.create(dataDir, { extensions: { timescaledb } })
const server = new PGLiteSocketServer({ db, port: Number(port), host: '127.0.0.1' })
await server.start()
console.log(`listening on 127.0.0.1:${port}`)

let stopping = false
async function stop () {
  if (stopping) return
  stopping = true
  await server.stop()
  await db.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
