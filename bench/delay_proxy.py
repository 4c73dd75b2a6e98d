"""A far mail exchanger on loopback: a TCP proxy that holds every chunk it forwards, each way, for a fixed time.

    python3 bench/delay_proxy.py LISTEN_PORT TARGET_PORT ONE_WAY_MS

Between a relay and bench/load.sh's smtp-sink it makes each round trip cost 2 x ONE_WAY_MS, as the path to a
real recipient MX does, while the order of the bytes stays as sent. Used by bench/signet-ab.sh --far-mx.
"""
import asyncio
import sys


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def forward():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            try:
                await writer.drain()
            except ConnectionError:
                return

    sender = asyncio.create_task(forward())
    while True:
        try:
            data = await reader.read(65536)
        except ConnectionError:
            data = b""
        queue.put_nowait((loop.time() + delay, data))
        if not data:
            break
    await sender


async def main(listen, target, delay):
    async def session(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, delay), pump(server_reader, client_writer, delay))

    server = await asyncio.start_server(session, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
