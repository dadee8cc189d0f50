import { aesKwpLength, wrappedLengthProblem } from '../../lambda/decisions/wrapped-length';

test('RSAES_OAEP: exactly the modulus length; a truncated blob is refused with both lengths', () => {
  expect(wrappedLengthProblem(256, 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256', 'RSA_2048')).toBeUndefined();
  expect(wrappedLengthProblem(255, 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256', 'RSA_2048')).toBe(
    'the upload is 255 bytes, but SYMMETRIC_DEFAULT material wrapped with RSAES_OAEP_SHA_256 under a RSA_2048 wrapping key is exactly 256 bytes (one RSA block)');
  expect(wrappedLengthProblem(512, 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256', 'RSA_2048')).toMatch(/is exactly 256 bytes/);
});

test('RSA_AES_KEY_WRAP: the modulus plus AES-KWP (RFC 5649) of the material', () => {
  expect(aesKwpLength(32)).toBe(40);
  expect(aesKwpLength(33)).toBe(48);
  expect(wrappedLengthProblem(512 + 40, 'HMAC_256', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096')).toBeUndefined();
  expect(wrappedLengthProblem(512 + 44, 'HMAC_256', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096')).toMatch(/multiple of 8 bytes, 552 to 648 bytes in all$/);
  expect(wrappedLengthProblem(512 + 1224, 'RSA_2048', 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096')).toBeUndefined();
});
