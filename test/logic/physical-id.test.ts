import { failedCreateId, isCredentialId } from '../../lambda/logic/physical-id';

describe('isCredentialId', () => {
  test.each<[string, boolean, string | undefined]>([
    ['an id of the shape IAM issues (ACCA + 17)', true, 'ACCAQYJ5EXAMPLE7ZKWQ2'],
    ['the shortest IAM allows (20)', true, 'A'.repeat(20)],
    ['the longest IAM allows (128)', true, 'A'.repeat(128)],
    ['underscores and digits', true, 'ACCA_0123456789_ABCDE'],
    ['one too short (19)', false, 'A'.repeat(19)],
    ['one too long (129)', false, 'A'.repeat(129)],
    ['a hyphen', false, 'ACCA-QYJ5EXAMPLE7ZKWQ'],
    ['a failed CREATE\'s id', false, failedCreateId('6f9619ff-8b86-d011-b42d-00cf4fc964ff')],
    ['a failed CREATE\'s id for a request id of word characters', false, failedCreateId('A'.repeat(40))],
    ['an empty string', false, ''],
    ['undefined', false, undefined],
  ])('GIVEN %s WHEN checked THEN isCredentialId is %s', (_, expected, id) => {
    expect(isCredentialId(id)).toBe(expected);
  });
});

describe('failedCreateId', () => {
  test('GIVEN a request id WHEN a CREATE fails THEN its id is the request id behind a prefix', () => {
    expect(failedCreateId('6f9619ff-8b86-d011-b42d-00cf4fc964ff')).toBe('failed-create-6f9619ff-8b86-d011-b42d-00cf4fc964ff');
  });
});
