package dev.signet.admin;

/** A request the API refuses: the HTTP status and a message for the client (sent as JSON). */
final class ApiError extends Exception {
  final int status;

  ApiError(int status, String message) {
    super(message);
    this.status = status;
  }
}
