"""SOAP 1.1 plumbing of the sandbox HIS: the static WSDL, envelope parsing and replies.

The service has one document/literal operation ``Invoke(code, xml) -> InvokeResult`` in
the ``http://tempuri.org/`` namespace, as .NET asmx services of Chinese HIS vendors do.
All XML is parsed with entity resolution, DTD loading and network access switched off.
"""
from __future__ import annotations

from lxml import etree

TNS = "http://tempuri.org/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
CONTENT_TYPE = "text/xml; charset=utf-8"

WSDL = b"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="http://tempuri.org/"
    targetNamespace="http://tempuri.org/">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="http://tempuri.org/">
      <s:element name="Invoke">
        <s:complexType><s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="code" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="xml" type="s:string"/>
        </s:sequence></s:complexType>
      </s:element>
      <s:element name="InvokeResponse">
        <s:complexType><s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="InvokeResult" type="s:string"/>
        </s:sequence></s:complexType>
      </s:element>
    </s:schema>
  </wsdl:types>
  <wsdl:message name="InvokeSoapIn"><wsdl:part name="parameters" element="tns:Invoke"/></wsdl:message>
  <wsdl:message name="InvokeSoapOut"><wsdl:part name="parameters" element="tns:InvokeResponse"/></wsdl:message>
  <wsdl:portType name="HisServiceSoap">
    <wsdl:operation name="Invoke">
      <wsdl:input message="tns:InvokeSoapIn"/>
      <wsdl:output message="tns:InvokeSoapOut"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="HisServiceSoap" type="tns:HisServiceSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Invoke">
      <soap:operation soapAction="http://tempuri.org/Invoke" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="HisService">
    <wsdl:port name="HisServiceSoap" binding="tns:HisServiceSoap">
      <soap:address location="http://127.0.0.1:8101/his/ws"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


class SoapError(Exception):
    """The request is not a usable SOAP Invoke call."""


def safe_parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_blank_text=True)


def parse_xml(text: str | bytes) -> etree._Element:
    """Parse an XML document safely; raises etree.XMLSyntaxError or ValueError."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return etree.fromstring(text, safe_parser())


def wsdl(location: str) -> bytes:
    """The WSDL with its service address set to location."""
    root = parse_xml(WSDL)
    address = root.find(f".//{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/{{{WSDL_SOAP}}}address")
    address.set("location", location)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def parse_invoke(body: bytes) -> tuple[str, str]:
    """(code, xml) from a SOAP Invoke request body."""
    try:
        root = parse_xml(body)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise SoapError("请求不是合法的XML") from exc
    call = root.find(f"{{{SOAP_ENV}}}Body/{{{TNS}}}Invoke")
    if call is None:
        raise SoapError("未找到Invoke操作")
    code = call.findtext(f"{{{TNS}}}code") or ""
    xml = call.findtext(f"{{{TNS}}}xml") or ""
    return code.strip(), xml


def _envelope() -> tuple[etree._Element, etree._Element]:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    return env, etree.SubElement(env, f"{{{SOAP_ENV}}}Body")


def invoke_response(result_xml: str) -> bytes:
    """A SOAP InvokeResponse carrying result_xml as a string."""
    env, body = _envelope()
    resp = etree.SubElement(body, f"{{{TNS}}}InvokeResponse", nsmap={None: TNS})
    etree.SubElement(resp, f"{{{TNS}}}InvokeResult").text = result_xml
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def fault(message: str, client: bool = False) -> bytes:
    """A SOAP 1.1 Fault envelope."""
    env, body = _envelope()
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(node, "faultstring").text = message
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")
