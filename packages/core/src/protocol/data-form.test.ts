import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '../xml/parser.js';
import { booleanValue, buildDataForm, DataFormError, parseDataForm, singleValue } from './data-form.js';

const X = "xmlns='jabber:x:data'";

it('reads a submitted form: FORM_TYPE apart, fields by var, values in order', () => {
  const f = parseDataForm(parseFragment(`<x ${X} type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:x</value></field>
    <field var='with'><value>a@b</value></field><field var='ids' type='list-multi'><value>1</value><value>2</value></field>
    <field type='fixed'><value>note</value></field><field var='empty'/></x>`));
  assert.equal(f.type, 'submit');
  assert.equal(f.formType, 'urn:x');
  assert.deepEqual([...f.fields.keys()], ['with', 'ids', 'empty']);
  assert.deepEqual(f.fields.get('ids'), { var: 'ids', type: 'list-multi', values: ['1', '2'] });
  assert.equal(singleValue(f, 'with'), 'a@b');
  assert.equal(singleValue(f, 'empty'), undefined);
  assert.equal(singleValue(f, 'missing'), undefined);
  assert.throws(() => singleValue(f, 'ids'), DataFormError);
});

it('refuses what XEP-0004 forbids', () => {
  for (const bad of [`<x ${X}/>`, `<x ${X} type='weird'/>`, `<x ${X} type='submit'><field><value>1</value></field></x>`,
    `<x ${X} type='submit'><field var='a'/><field var='a'/></x>`, `<y ${X} type='submit'/>`, `<x xmlns='other' type='submit'/>`,
    `<x ${X} type='submit'><field var='FORM_TYPE'/><field var='FORM_TYPE'/></x>`]) {
    assert.throws(() => parseDataForm(parseFragment(bad)), DataFormError, bad);
  }
});

it('booleans accept 0/1/true/false only', () => {
  const f = parseDataForm(parseFragment(`<x ${X} type='submit'><field var='a'><value>1</value></field><field var='b'><value>false</value></field><field var='c'><value>yes</value></field></x>`));
  assert.equal(booleanValue(f, 'a'), true);
  assert.equal(booleanValue(f, 'b'), false);
  assert.equal(booleanValue(f, 'z'), undefined);
  assert.throws(() => booleanValue(f, 'c'), DataFormError);
});

it('builds a form that reads back the same', () => {
  const x = buildDataForm('form', 'urn:x', [{ var: 'with', type: 'jid-single' }, { var: 'ids', type: 'list-multi', values: ['a', 'b'] }], { title: 'T' });
  assert.equal(x.getChildText('title'), 'T');
  assert.equal(x.getChildren('field')[0]!.attr('var'), 'FORM_TYPE');
  assert.equal(x.getChildren('field')[0]!.attr('type'), 'hidden');
  const back = parseDataForm(parseFragment(x.toString()));
  assert.equal(back.formType, 'urn:x');
  assert.deepEqual(back.fields.get('ids')?.values, ['a', 'b']);
  assert.equal(back.fields.get('with')?.type, 'jid-single');
});
