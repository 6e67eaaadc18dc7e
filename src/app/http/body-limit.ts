/**
 * Every request body is bounded before anything parses it: 12 MiB, room for the SQL endpoint's
 * largest batch and a seed, far below what would strain an isolate. A declared
 * `Content-Length` over the limit is refused at once; a streamed body is counted as it arrives.
 */
import { bodyLimit } from 'hono/body-limit';
import { Failure } from '../../core/errors';

export const MAX_REQUEST_BODY_BYTES = 12 * 1024 * 1024;

export const requestBodyLimit = () =>
  bodyLimit({
    maxSize: MAX_REQUEST_BODY_BYTES,
    onError: () => {
      throw new Failure('request_too_large', `request bodies are limited to ${MAX_REQUEST_BODY_BYTES} bytes (12 MiB)`, {
        max_bytes: MAX_REQUEST_BODY_BYTES,
      });
    },
  });
