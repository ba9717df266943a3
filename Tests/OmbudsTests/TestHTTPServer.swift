import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 for the webhook tests: it records every request and
/// answers as `behaviour` says (a status, a status after a delay, or a dropped connection).
final class TestHTTPServer: Sendable {
  struct Request: Sendable {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
      headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
  }

  enum Reply: Sendable {
    case status(Int)
    /// Answer after `delay` (a client with a shorter timeout gives up first).
    case late(TimeAmount, Int)
    /// Close the connection without answering.
    case hangUp
  }

  let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  let channel: any Channel
  let port: Int
  let state: NIOLockedValueBox<[Request]>
  let behaviour: @Sendable (Int, Request) -> Reply

  /// Listens on `port` (0: any free port). `arrived` is called after each request is recorded.
  init(
    port: Int = 0, behaviour: @escaping @Sendable (Int, Request) -> Reply = { _, _ in .status(200) },
    arrived: @escaping @Sendable () -> Void = {}
  ) throws {
    let state = NIOLockedValueBox<[Request]>([])
    self.state = state
    self.behaviour = behaviour
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 64)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.pipeline.configureHTTPServerPipeline().flatMap {
          channel.pipeline.addHandler(Handler(state: state, behaviour: behaviour, arrived: arrived))
        }
      }
    channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
    self.port = channel.localAddress?.port ?? port
  }

  var url: String { "http://127.0.0.1:\(port)/hook" }
  var requests: [Request] { state.withLockedValue { $0 } }

  func shutdown() {
    try? channel.close().wait()
    try? group.syncShutdownGracefully()
  }

  /// A port nothing listens on (bound once, then released).
  static func unusedPort() throws -> Int {
    let server = try TestHTTPServer()
    let port = server.port
    server.shutdown()
    return port
  }

  final class Handler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used on its channel's event loop only.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let state: NIOLockedValueBox<[Request]>
    let behaviour: @Sendable (Int, Request) -> Reply
    let arrived: @Sendable () -> Void
    var current: Request?

    init(
      state: NIOLockedValueBox<[Request]>, behaviour: @escaping @Sendable (Int, Request) -> Reply,
      arrived: @escaping @Sendable () -> Void
    ) {
      self.state = state
      self.behaviour = behaviour
      self.arrived = arrived
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head(let head):
        current = Request(
          method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: [])
      case .body(var buffer):
        current?.body += buffer.readBytes(length: buffer.readableBytes) ?? []
      case .end:
        guard let request = current else { return }
        current = nil
        let number = state.withLockedValue { list -> Int in
          list.append(request)
          return list.count
        }
        arrived()
        let reply = behaviour(number, request)
        let loop = context.eventLoop
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        @Sendable func respond(_ code: Int) {
          let context = boundContext.value
          var headers = HTTPHeaders()
          headers.add(name: "Content-Length", value: "2")
          headers.add(name: "Content-Type", value: "text/plain")
          let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers)
          context.write(wrapOutboundOut(.head(head)), promise: nil)
          var body = context.channel.allocator.buffer(capacity: 2)
          body.writeString("ok")
          context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
          context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        switch reply {
        case .status(let code): respond(code)
        case .late(let delay, let code):
          loop.scheduleTask(in: delay) {
            if boundContext.value.channel.isActive { respond(code) }
          }
        case .hangUp:
          context.close(promise: nil)
        }
      }
    }
  }
}
