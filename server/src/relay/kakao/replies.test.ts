import { describe, expect, it } from 'vitest';
import { codeIssued, textResponse } from './replies.js';

describe('Kakao replies', () => {
  it('wraps a text in a one-bubble SkillResponse', () => {
    expect(textResponse('안녕')).toEqual({
      version: '2.0',
      template: { outputs: [{ simpleText: { text: '안녕' } }] },
    });
  });

  it('adds the portal address to a /code answer only when it is configured', () => {
    const bare =
      '🔑 포털 접속 코드\n\n코드: ABCD-2345\n유효시간: 30분\n\n이 코드로 포털에서 대화 내역과 통계를 확인할 수 있습니다.';
    expect(codeIssued('ABCD-2345', 30)).toBe(bare);
    expect(codeIssued('ABCD-2345', 30, 'https://relay.example.com')).toBe(
      `${bare}\n\n포털 주소:\nhttps://relay.example.com/portal/code`,
    );
    expect(codeIssued('ABCD-2345', 30, 'https://relay.example.com/base//')).toBe(
      `${bare}\n\n포털 주소:\nhttps://relay.example.com/base/portal/code`,
    );
  });
});
